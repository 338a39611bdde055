namespace Prunerl.Core

open Prunerl.Core.Validate

/// How a network is trained sparse: the paper's gradual magnitude pruning against the methods it is compared
/// with (Graesser et al. 2022, "The state of sparse training in deep reinforcement learning", sec. 3, which
/// compares all five in DQN, SAC and PPO; JaxPruner ships them all).
type SparseMethod =
    /// Gradual magnitude pruning (Zhu and Gupta 2017; the paper's): dense at first, masks recomputed by magnitude
    /// on the pruning schedule (Plan, Mask.updateLayerwise).
    | GMP
    /// Static sparse training: a mask drawn at initialisation (StaticMask) and never changed.
    | Static
    /// The lottery ticket (Frankle and Carbin 2019): a finished pruned run's final mask on its initial (or
    /// rewound) weights (LotteryTicket), never changed.
    | Lottery
    /// SET (Mocanu et al. 2018): a random static mask at initialisation (JaxPruner's SET extends
    /// StaticRandomSparse), then on the drop schedule the smallest kept weights dropped and as many regrown at random.
    | SET
    /// RigL (Evci et al. 2020): as SET, but regrown where the dense gradient's magnitude is largest.
    | RigL

/// The sparse-training methods: their names, which of them rewire, and one step of their masks.
[<RequireQualifiedAccess>]
module SparseMethod =

    /// Every method, the paper's first.
    let all = [ GMP; Static; Lottery; SET; RigL ]

    /// The method's name as runs and reports spell it: gmp, static, lottery, set, rigl.
    let name (method: SparseMethod) : string =
        match method with
        | GMP -> "gmp"
        | Static -> "static"
        | Lottery -> "lottery"
        | SET -> "set"
        | RigL -> "rigl"

    /// The method a name spells (as `name` spells it, any case).
    let parse (text: string) : Result<SparseMethod, string> =
        match all |> List.tryFind (fun m -> name m = (if isNull text then "" else text.Trim().ToLowerInvariant())) with
        | Some m -> Ok m
        | None -> Error(sprintf "method must be one of %s, got '%s'" (all |> List.map name |> String.concat ", ") text)

    /// Whether the method drops and regrows connections (SET, RigL).
    let isDynamic (method: SparseMethod) : bool =
        match method with
        | SET
        | RigL -> true
        | GMP
        | Static
        | Lottery -> false

    /// Whether the network is sparse from step 0 with every layer's kept count fixed at its target (all but GMP).
    let isSparseFromStart (method: SparseMethod) : bool = method <> GMP

    /// Whether the method rewires its masks at step t: a dynamic method on its drop schedule's update steps.
    let rewiresAt (method: SparseMethod) (drop: DropSchedule) (t: int64) : bool =
        isDynamic method && DropFraction.isUpdateStep drop t

    /// Whether step t needs the dense gradient (over pruned positions too): RigL, at its rewiring steps only.
    let needsDenseGradient (method: SparseMethod) (drop: DropSchedule) (t: int64) : bool =
        method = RigL && rewiresAt method drop t

    /// The masks after step t of a method that keeps its counts fixed, one Rewiring per parameter: unchanged for
    /// static and lottery-ticket training and between rewiring steps; at a rewiring step of SET or RigL, each
    /// layer's drop and grow at DropFraction.at drop t, SET's regrowth drawn from Rewiring.growthStream seed t
    /// layer, RigL's from the dense gradients (required then, ignored otherwise). GMP's masks follow its plan instead.
    let rewire
        (method: SparseMethod)
        (drop: DropSchedule)
        (seed: uint64)
        (t: int64)
        (masks: bool[][])
        (weights: float32[][])
        (gradients: float32[][] option)
        : Result<Rewiring[], string> =
        let unchanged () = masks |> Array.map (fun m -> { Mask = Array.copy m; Dropped = [||]; Grown = [||] })
        result {
            let! drop = DropFraction.validate drop
            do!
                if masks.Length = weights.Length then Ok()
                else Error(sprintf "masks cover %d parameters but the weights %d" masks.Length weights.Length)
            match method with
            | GMP -> return! Error "method gmp: masks follow the pruning plan (Mask.updateLayerwise), not rewiring"
            | Static
            | Lottery -> return unchanged ()
            | SET
            | RigL when not (rewiresAt method drop t) -> return unchanged ()
            | SET ->
                let fraction = DropFraction.at drop t
                let! layers =
                    traverse
                        (fun i -> Rewiring.layer fraction (RandomGrowth(Rewiring.growthStream seed t i)) masks[i] weights[i])
                        [ 0 .. masks.Length - 1 ]
                return Array.ofList layers
            | RigL ->
                let fraction = DropFraction.at drop t
                let! gradients =
                    match gradients with
                    | Some g when g.Length = masks.Length -> Ok g
                    | Some g -> Error(sprintf "gradients cover %d parameters but the masks %d" g.Length masks.Length)
                    | None -> Error(sprintf "method rigl needs the dense gradients at its rewiring step %d" t)
                let! layers =
                    traverse
                        (fun i -> Rewiring.layer fraction (GradientGrowth gradients[i]) masks[i] weights[i])
                        [ 0 .. masks.Length - 1 ]
                return Array.ofList layers
        }
