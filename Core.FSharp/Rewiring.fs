namespace Prunerl.Core

open Prunerl.Core.Validate

/// Where a dynamic sparse method regrows the connections it dropped.
type Growth =
    /// SET (Mocanu et al. 2018, "Scalable training of artificial neural networks with adaptive sparse
    /// connectivity"): uniformly at random among the pruned positions, drawn from this stream.
    | RandomGrowth of Rng
    /// RigL (Evci et al. 2020, "Rigging the lottery", sec. 3): where the dense gradient's magnitude is
    /// largest (JaxPruner RigL._get_grow_scores, sparse_trainers.py lines 169-171, commit f133ee5), ranked as
    /// Mask ranks weights (NaN first, ties to the lower index).
    | GradientGrowth of gradient: float32[]

/// One layer's mask update under dynamic sparse training.
type Rewiring =
    { /// The mask after the update: the old one less Dropped plus Grown, with as many entries kept.
      Mask: bool[]
      /// The kept positions dropped, in ascending order: those of smallest |w|.
      Dropped: int[]
      /// The pruned positions regrown, in ascending order; disjoint from Dropped.
      Grown: int[] }

/// The drop-and-grow update of SET and RigL on one layer's flat weights. A layer keeping k of n entries drops
/// d = min(k - round(k (1 - f)), n - k) of its kept weights, those of smallest magnitude (JaxPruner SET._update_masks,
/// sparse_trainers.py lines 102-129 at commit f133ee5: the kept after the drop are the top round(k (1 - f)) by |w|), and regrows d
/// among the positions pruned before the update, so the kept count stays exactly k. Unlike JaxPruner, a weight
/// dropped in an update is never regrown in the same update (the issue's rule; JaxPruner may pick it again), which
/// the cap n - k makes always possible.
[<RequireQualifiedAccess>]
module Rewiring =

    /// The number of kept entries an update drops (and regrows): min(k - round(k (1 - f)), n - k), rounding half
    /// to even as numpy; fraction is held within [0, 1].
    let dropCount (fraction: float) (kept: int64) (size: int64) : int64 =
        let kept = System.Math.Clamp(kept, 0L, size)
        let survivors = Sparsity.keptCount (System.Math.Clamp(fraction, 0.0, 1.0)) kept
        min (kept - survivors) (size - kept)

    /// The stream SET draws layer `layer`'s regrowth from at step t: sub-stream `layer` of sub-stream t of the
    /// method's seed (as JaxPruner folds the step count into its key, sparse_trainers.py line 136).
    let growthStream (seed: uint64) (step: int64) (layer: int) : Rng =
        Rng.create (Rng.deriveSeed (Rng.deriveSeed seed step) (int64 layer))

    let private sameLength (what: string) (n: int) (m: int) =
        if n = m then Ok() else Error(sprintf "the %s has %d entries but the mask has %d" what n m)

    /// A copy of the array with the given positions set to the value.
    let private setAt (positions: int[]) (value: 'a) (array: 'a[]) =
        let copy = Array.copy array
        for i in positions do copy[i] <- value
        copy

    /// One layer's update at drop fraction f: drops the smallest kept weights, regrows as `growth` says.
    let layer (fraction: float) (growth: Growth) (mask: bool[]) (weights: float32[]) : Result<Rewiring, string> =
        result {
            let! f = inClosed "drop_fraction" 0.0 1.0 fraction
            do! sameLength "weights" weights.Length mask.Length
            do!
                match growth with
                | GradientGrowth g -> sameLength "gradient" g.Length mask.Length
                | RandomGrowth _ -> Ok()
            let d = int (dropCount f (Mask.kept mask) mask.LongLength)
            let keptByImportance = Mask.rank weights |> Array.filter (fun i -> mask[i])
            let dropped = Array.sub keptByImportance (keptByImportance.Length - d) d |> Array.sort
            let grown =
                match growth with
                | RandomGrowth rng -> fst (Rng.sample d (Array.init mask.Length id |> Array.filter (fun i -> not mask[i])) rng)
                | GradientGrowth g -> Mask.rank g |> Array.filter (fun i -> not mask[i]) |> Array.truncate d |> Array.sort
            return { Mask = setAt grown true (setAt dropped false mask); Dropped = dropped; Grown = grown }
        }

    /// The values with the regrown positions set to zero: what a regrown weight and its optimizer state
    /// (Adam's moments, a momentum trace) start from (JaxPruner restart_inner_state, sparse_trainers.py
    /// lines 61-82, and RigL's grow_init 'zeros').
    let restart (rewiring: Rewiring) (values: float32[]) : Result<float32[], string> =
        result {
            do! sameLength "values" values.Length rewiring.Mask.Length
            return setAt rewiring.Grown 0.0f values
        }
