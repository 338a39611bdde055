namespace Prunerl.Core

open System
open Prunerl.Core.Validate

/// Magnitude masks over float32 weights (flattened in the framework's order): true keeps the entry.
///
/// Importance order, used everywhere: larger |w| first; NaN before any number (as torch.sort and
/// numpy sort it when descending); equal magnitudes by lower flat index, as JaxPruner's top-k mask
/// breaks ties. The order is total, so the kept set for a count is unique, and the kept sets of
/// growing sparsity are nested.
[<RequireQualifiedAccess>]
module Mask =

    /// Negative when entry i of the weights ranks before entry j.
    let private compareImportance (weights: float32[]) (i: int) (j: int) =
        let a = abs weights[i]
        let b = abs weights[j]
        match Single.IsNaN a, Single.IsNaN b with
        | true, false -> -1
        | false, true -> 1
        | nanA, nanB ->
            let byMagnitude = if nanA && nanB then 0 else compare b a
            if byMagnitude <> 0 then byMagnitude else compare i j

    /// The indices of the entries that may be kept, most important first.
    let private ranked (weights: float32[]) (eligible: int -> bool) =
        let order = [| for i in 0 .. weights.Length - 1 do if eligible i then i |]
        Array.sortInPlaceWith (compareImportance weights) order
        order

    /// Keeps the `count` most important eligible entries.
    let private top (count: int64) (weights: float32[]) (eligible: int -> bool) : bool[] =
        let mask = Array.zeroCreate weights.Length
        ranked weights eligible |> Array.truncate (int (Math.Clamp(count, 0L, int64 weights.Length))) |> Array.iter (fun i -> mask[i] <- true)
        mask

    /// The indices of all entries, most important first.
    let rank (weights: float32[]) : int[] = ranked weights (fun _ -> true)

    /// Keeps the `count` entries of largest magnitude (count is held within [0, n]).
    let keepLargest (count: int64) (weights: float32[]) : bool[] = top count weights (fun _ -> true)

    /// Layer-wise magnitude mask at sparsity s: keeps exactly round((1 - s) * n) entries of largest |w|.
    let layerwise (sparsity: float) (weights: float32[]) : Result<bool[], string> =
        inHalfOpen "sparsity" 0.0 1.0 sparsity
        |> Result.map (fun s -> keepLargest (Sparsity.keptCount s weights.LongLength) weights)

    let private sameLength (mask: bool[]) (weights: float32[]) =
        if mask.Length = weights.Length then Ok()
        else Error(sprintf "mask has %d entries but the weights have %d" mask.Length weights.Length)

    /// A mask update under gradual pruning: keeps the round((1 - s) * n) largest entries among those the
    /// previous mask kept (all of them if it kept fewer), so a pruned entry is never revived.
    let updateLayerwise (previous: bool[]) (sparsity: float) (weights: float32[]) : Result<bool[], string> =
        result {
            let! s = inHalfOpen "sparsity" 0.0 1.0 sparsity
            do! sameLength previous weights
            return top (Sparsity.keptCount s weights.LongLength) weights (fun i -> previous[i])
        }

    /// Cuts a flat mask back into the layers' lengths.
    let private split (layers: float32[][]) (flat: bool[]) =
        let offsets = layers |> Array.scan (fun off l -> off + l.Length) 0
        layers |> Array.mapi (fun k l -> Array.sub flat offsets[k] l.Length)

    /// Global magnitude mask: one ranking across all layers (ties by layer, then position), keeping
    /// exactly round((1 - s) * N) entries of the N in all layers: one threshold for the whole network.
    let globalMagnitude (sparsity: float) (layers: float32[][]) : Result<bool[][], string> =
        layerwise sparsity (Array.concat layers) |> Result.map (split layers)

    /// A global mask update that never revives: as globalMagnitude, among the entries kept before.
    let updateGlobal (previous: bool[][]) (sparsity: float) (layers: float32[][]) : Result<bool[][], string> =
        result {
            do!
                if previous.Length = layers.Length then Ok()
                else Error(sprintf "previous masks cover %d layers but there are %d" previous.Length layers.Length)
            let! _ = traverse (fun (m, w) -> sameLength m w) (Array.zip previous layers)
            let! mask = updateLayerwise (Array.concat previous) sparsity (Array.concat layers)
            return split layers mask
        }

    /// Number of kept entries.
    let kept (mask: bool[]) : int64 = mask |> Array.sumBy (fun k -> if k then 1L else 0L)

    /// Fraction of entries pruned (0 for an empty mask).
    let sparsity (mask: bool[]) : float =
        if mask.Length = 0 then 0.0 else 1.0 - float (kept mask) / float mask.Length

    /// The weights with pruned entries set to zero.
    let apply (mask: bool[]) (weights: float32[]) : Result<float32[], string> =
        sameLength mask weights |> Result.map (fun () -> Array.map2 (fun k w -> if k then w else 0.0f) mask weights)
