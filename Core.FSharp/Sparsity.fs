namespace Prunerl.Core

open System
open Prunerl.Core.Validate

/// What a parameter tensor is; decides whether it is pruned by default.
type ParameterRole =
    /// A weight matrix or convolution kernel: pruned (the paper prunes all of them).
    | Weight
    /// A bias vector: dense unless asked.
    | Bias
    /// A normalisation layer's scale or shift: dense unless asked.
    | Normalization

/// One parameter tensor of a network. Shapes follow the framework's layout (torch: [out, in, kh, kw]);
/// only the product and the sum of the dimensions matter here.
type Parameter =
    { /// The parameter's name, unique within the network (torch: "layers.0.weight").
      Name: string
      /// The tensor's dimensions, each >= 1.
      Shape: int[]
      /// What the tensor is, which decides whether it is pruned by default.
      Role: ParameterRole }

    /// Number of entries: the product of the dimensions (1 for a scalar).
    member p.Size = p.Shape |> Array.fold (fun n d -> n * int64 d) 1L

/// A rule that keeps a prunable parameter dense.
type DenseRule =
    /// The parameter with this exact name.
    | Named of name: string
    /// The first parameter whose role is Weight (the input layer).
    | FirstWeight
    /// The last parameter whose role is Weight (the output layer).
    | LastWeight

/// Which parameters are pruned.
type Scope =
    { /// Prunable parameters kept dense all the same.
      KeepDense: DenseRule list
      /// Whether biases are pruned.
      PruneBiases: bool
      /// Whether normalisation parameters are pruned.
      PruneNormalization: bool }

/// How a target sparsity s is spread over the pruned parameters.
type Distribution =
    /// Every pruned parameter gets sparsity s (JaxPruner's `uniform`).
    | Uniform
    /// Erdos-Renyi-Kernel (Evci et al. 2020, "Rigging the lottery", sec. 3): the density of a
    /// parameter of shape (d_1, ..., d_k) is eps * ((d_1 + ... + d_k) / (d_1 * ... * d_k))^powerScale,
    /// eps chosen so the kept count over all pruned parameters is (1 - s) times their size.
    /// Parameters whose density would exceed 1 are kept dense and eps is solved again without them.
    | Erk of powerScale: float

/// Per-layer budgets, or one budget shared by all pruned parameters.
type Allocation =
    /// Each parameter keeps a count fixed by the distribution; its mask is ranked within itself.
    | LayerWise of Distribution
    /// Global magnitude pruning: one ranking across all pruned parameters decides (one threshold).
    | Global

/// What a parameter keeps at a given overall sparsity.
type LayerTarget =
    /// Not pruned.
    | Dense
    /// Pruned to keep exactly this many entries.
    | Keep of count: int64
    /// Pruned; its share of the global budget follows from the weights' magnitudes.
    | Pooled

/// A parameter with its target.
type LayerBudget =
    { /// The parameter.
      Parameter: Parameter
      /// What it keeps.
      Target: LayerTarget }

    /// The target's sparsity, 1 - kept / size; None for a pooled parameter (it depends on the weights).
    member b.Sparsity =
        match b.Target with
        | Dense -> Some 0.0
        | Keep k -> Some(1.0 - float k / float b.Parameter.Size)
        | Pooled -> None

/// A network's parameters together with which of them are pruned; made by Sparsity.select.
[<Sealed>]
type PrunableSet internal (parameters: Parameter[], prunable: bool[]) =
    /// All parameters, in network order.
    member _.Parameters = Array.copy parameters
    /// Whether parameter i is pruned.
    member _.IsPrunable(i: int) = prunable[i]
    /// Total size of the pruned parameters.
    member _.PrunableSize =
        Seq.zip parameters prunable |> Seq.sumBy (fun (p, pruned) -> if pruned then p.Size else 0L)
    /// Total size of all parameters.
    member _.TotalSize = parameters |> Array.sumBy (fun p -> p.Size)

/// Spreading a target sparsity over a network's parameters.
[<RequireQualifiedAccess>]
module Sparsity =

    /// The number of entries a parameter of n entries keeps at sparsity s: round((1 - s) * n), ties to
    /// even as numpy's and JaxPruner's round, kept within [0, n].
    let keptCount (sparsity: float) (n: int64) : int64 =
        let kept = Math.Round((1.0 - sparsity) * float n, MidpointRounding.ToEven)
        Math.Clamp(int64 kept, 0L, n)

    /// The paper's scope: every weight matrix and kernel is pruned, biases and normalisation are not.
    let paperScope =
        { KeepDense = []
          PruneBiases = false
          PruneNormalization = false }

    let private checkParameters (parameters: Parameter[]) =
        let checkOne (p: Parameter) =
            if String.IsNullOrWhiteSpace p.Name then Error "parameters: a parameter has an empty name"
            elif p.Shape |> Array.exists (fun d -> d < 1) then
                Error(sprintf "parameters: '%s' has shape %A; every dimension must be >= 1" p.Name p.Shape)
            else Ok p
        result {
            let! _ = traverse checkOne parameters
            match parameters |> Array.countBy (fun p -> p.Name) |> Array.tryFind (fun (_, n) -> n > 1) with
            | Some(name, _) -> return! Error(sprintf "parameters: the name '%s' is used twice" name)
            | None -> return parameters
        }

    /// Decides which parameters are pruned: those whose role the scope prunes, less those a dense rule
    /// names. Fails on an invalid parameter list or a rule that names no parameter.
    let select (scope: Scope) (parameters: Parameter seq) : Result<PrunableSet, string> =
        result {
            let! ps = checkParameters (Array.ofSeq parameters)
            let weights = ps |> Array.indexed |> Array.filter (fun (_, p) -> p.Role = Weight) |> Array.map fst
            let! keptDense =
                scope.KeepDense
                |> traverse (fun rule ->
                    match rule with
                    | Named name ->
                        match ps |> Array.tryFindIndex (fun p -> p.Name = name) with
                        | Some i -> Ok [ i ]
                        | None -> Error(sprintf "keep_dense names no parameter: '%s'" name)
                    | FirstWeight -> Ok(weights |> Array.tryHead |> Option.toList)
                    | LastWeight -> Ok(weights |> Array.tryLast |> Option.toList))
            let keptDense = set (List.concat keptDense)
            let byRole (p: Parameter) =
                match p.Role with
                | Weight -> true
                | Bias -> scope.PruneBiases
                | Normalization -> scope.PruneNormalization
            return PrunableSet(ps, ps |> Array.mapi (fun i p -> byRole p && not (keptDense.Contains i)))
        }

    /// Integer counts summing exactly to budget, each within [0, cap], close to the real shares:
    /// floors first, then one more to the largest fractional parts (ties to the lower index).
    let private apportion (budget: int64) (shares: float[]) (caps: int64[]) : int64[] =
        let budget = Math.Clamp(budget, 0L, Array.sum caps)
        let counts = Array.map2 (fun (r: float) cap -> Math.Clamp(int64 (floor r), 0L, cap)) shares caps
        let byFraction =
            Array.init shares.Length id
            |> Array.sortBy (fun i -> -(shares[i] - floor shares[i]), i)
        // Float error can leave the floors a unit or two off the budget: walk the order until it is met.
        let mutable missing = budget - Array.sum counts
        while missing > 0L do
            for i in byFraction do
                if missing > 0L && counts[i] < caps[i] then
                    counts[i] <- counts[i] + 1L
                    missing <- missing - 1L
        while missing < 0L do
            for i in Array.rev byFraction do
                if missing < 0L && counts[i] > 0L then
                    counts[i] <- counts[i] - 1L
                    missing <- missing + 1L
        counts

    /// ERK kept counts for parameters of the given shapes that together keep exactly `budget`
    /// entries (budget within [0, total size]).
    let private erkCounts (powerScale: float) (shapes: int[][]) (budget: int64) : int64[] =
        let sizes = shapes |> Array.map (Array.fold (fun n d -> n * int64 d) 1L)
        let raw =
            Array.map2 (fun (shape: int[]) n -> (float (Array.sumBy int64 shape) / float n) ** powerScale) shapes sizes
        // RigL's loop: solve eps, make the layers it would overfill dense, solve again without them.
        let rec solve (dense: Set<int>) =
            let open' = [ for i in 0 .. shapes.Length - 1 do if not (dense.Contains i) then i ]
            if open'.IsEmpty then dense, 0.0
            else
                let denseSize = dense |> Seq.sumBy (fun i -> sizes[i])
                let eps = float (budget - denseSize) / (open' |> List.sumBy (fun i -> raw[i] * float sizes[i]))
                let maxRaw = open' |> List.map (fun i -> raw[i]) |> List.max
                if eps * maxRaw > 1.0 then solve (dense + set (open' |> List.filter (fun i -> raw[i] = maxRaw)))
                else dense, eps
        let dense, eps = solve Set.empty
        let shares = Array.init shapes.Length (fun i -> if dense.Contains i then float sizes[i] else eps * raw[i] * float sizes[i])
        apportion budget shares sizes

    /// Targets at overall sparsity s over the pruned parameters; s is assumed valid.
    let internal distribute (allocation: Allocation) (prunable: PrunableSet) (sparsity: float) : LayerBudget[] =
        let ps = prunable.Parameters
        let pruned = [| for i in 0 .. ps.Length - 1 do if prunable.IsPrunable i then i |]
        let targets: LayerTarget[] = Array.create ps.Length Dense
        match allocation with
        | Global -> for i in pruned do targets[i] <- Pooled
        | LayerWise Uniform -> for i in pruned do targets[i] <- Keep(keptCount sparsity ps[i].Size)
        | LayerWise(Erk power) ->
            let counts = erkCounts power (pruned |> Array.map (fun i -> ps[i].Shape)) (keptCount sparsity prunable.PrunableSize)
            Array.iter2 (fun i k -> targets[i] <- Keep k) pruned counts
        Array.map2 (fun p t -> { Parameter = p; Target = t }) ps targets

    /// Checks an allocation's own parameters.
    let validateAllocation (allocation: Allocation) : Result<Allocation, string> =
        match allocation with
        // Bounded so that (sum / product)^power cannot underflow to 0 for any realistic layer.
        | LayerWise(Erk power) when not (Double.IsFinite power && power > 0.0 && power <= 2.0) ->
            Error(sprintf "erk_power must be in (0, 2], got %s" (show power))
        | _ -> Ok allocation

    /// The per-parameter targets at overall sparsity s (over the pruned parameters). Uniform gives
    /// each pruned parameter round((1 - s) * n); ERK and Global keep exactly round((1 - s) * N) over
    /// all pruned parameters together (N their total size).
    let allocate (allocation: Allocation) (prunable: PrunableSet) (sparsity: float) : Result<LayerBudget[], string> =
        result {
            let! allocation = validateAllocation allocation
            let! s = inHalfOpen "sparsity" 0.0 1.0 sparsity
            return distribute allocation prunable s
        }
