namespace Prunerl.Core

open Prunerl.Core.Validate

/// How a static sparse network's mask is drawn at initialisation.
type StaticInit =
    /// Uniformly at random within each layer: every subset of the layer's kept count equally likely
    /// (JaxPruner's StaticRandomSparse, sparse_trainers.py lines 40-46: random scores, then the top k of
    /// each layer at its target).
    | RandomInit
    /// The largest initial weights, ranked as Mask ranks them (pruning at initialisation by magnitude).
    | MagnitudeInit

/// The mask of static sparse training: drawn once, before the first update, and never changed.
[<RequireQualifiedAccess>]
module StaticMask =

    let private checkShapes (targets: PlanStep) (weights: float32[][]) =
        if weights.Length <> targets.Layers.Length then
            Error(sprintf "weights cover %d parameters but the plan has %d" weights.Length targets.Layers.Length)
        else
            traverse
                (fun (b: LayerBudget, w: float32[]) ->
                    if w.LongLength = b.Parameter.Size then Ok()
                    else Error(sprintf "parameter '%s' has %d entries but %d weights were given" b.Parameter.Name b.Parameter.Size w.Length))
                (Array.zip targets.Layers weights)
            |> Result.map ignore

    /// The static mask for the targets of one plan step (Plan.at at step 0 of a constant schedule), one
    /// array per parameter in network order: a dense parameter keeps everything; a parameter that keeps
    /// k of n entries keeps exactly k, drawn from sub-stream i of the seed (Rng.deriveSeed seed i, i the
    /// parameter's index) or the k largest. A global allocation (pooled targets) keeps the plan's kept count
    /// over the pooled parameters together, by magnitude only: random draws need per-layer counts.
    let create (init: StaticInit) (seed: uint64) (targets: PlanStep) (weights: float32[][]) : Result<bool[][], string> =
        result {
            do! checkShapes targets weights
            let pooled = targets.Layers |> Array.exists (fun b -> b.Target = Pooled)
            match init, pooled with
            | RandomInit, true ->
                return! Error "a random static mask needs per-layer targets (a uniform or erk distribution), not global"
            | MagnitudeInit, true ->
                let isPooled i = targets.Layers[i].Target = Pooled
                // Where each parameter starts in the concatenation of the pooled ones (unused for the others).
                let offsets = weights |> Array.mapi (fun i w -> if isPooled i then w.Length else 0) |> Array.scan (+) 0
                let pooledWeights = [| for i in 0 .. weights.Length - 1 do if isPooled i then weights[i] |]
                let flat = Mask.keepLargest targets.PrunableKept (Array.concat pooledWeights)
                return
                    weights
                    |> Array.mapi (fun i w -> if isPooled i then Array.sub flat offsets[i] w.Length else Array.create w.Length true)
            | _ ->
                return
                    Array.mapi2
                        (fun i (b: LayerBudget) (w: float32[]) ->
                            match b.Target, init with
                            | Keep k, RandomInit ->
                                let kept, _ = Rng.sample (int k) (Array.init w.Length id) (Rng.create (Rng.deriveSeed seed (int64 i)))
                                let mask = Array.zeroCreate w.Length
                                for j in kept do mask[j] <- true
                                mask
                            | Keep k, MagnitudeInit -> Mask.keepLargest k w
                            | _ -> Array.create w.Length true)
                        targets.Layers
                        weights
        }
