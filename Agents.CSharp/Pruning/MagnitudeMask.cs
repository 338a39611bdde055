using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>
/// Magnitude masks computed on tensors, in the importance order of the pure core's <c>Mask</c>: larger
/// |w| first, NaN before any number, equal magnitudes by lower flat index (a stable descending sort).
/// </summary>
public static class MagnitudeMask
{
    /// <summary>
    /// A boolean mask of the weights' shape keeping the <paramref name="count"/> entries of largest |w|
    /// among those <paramref name="eligible"/> keeps (non-zero entries; all entries when null); never an
    /// ineligible one.
    /// </summary>
    /// <remarks>
    /// Selection instead of a sort (a sort of 2M weights took 25 times as long): NaN entries first, by
    /// index; then the threshold t, the k-th largest remaining |w| (kthvalue), every entry above t, and of
    /// those equal to t the lowest indices, as many as are still wanted.
    /// </remarks>
    public static Tensor KeepLargest(Tensor weights, long count, Tensor? eligible = null)
    {
        using var scope = NewDisposeScope();
        using var scalars = new OwnedScalars();
        var score = weights.detach().flatten().abs();
        var n = score.shape[0];
        if (eligible is not null)
        {
            // |w| >= 0, so -1 ranks every ineligible entry after every eligible one.
            score = where(eligible.flatten().to_type(ScalarType.Bool), score, tensor(-1f, score.dtype, score.device));
            count = Math.Min(count, eligible.count_nonzero().item<long>());
        }
        count = Math.Clamp(count, 0, n);
        var nan = score.isnan();
        var nanCount = nan.sum().item<long>();
        if (count <= nanCount) return FirstOf(nan, count, scalars).view(weights.shape).MoveToOuterDisposeScope();
        // Every NaN entry is kept: -2 puts them below every other score.
        var numbers = nanCount > 0 ? score.masked_fill(nan, scalars.Of(-2f)) : score;
        var rest = count - nanCount;
        var threshold = numbers.kthvalue(n - rest + 1, 0).values;
        var keep = numbers.gt(threshold);
        var ties = numbers.eq(threshold);
        var tiesWanted = rest - keep.sum().item<long>();
        keep.logical_or_(tiesWanted == ties.sum().item<long>() ? ties : FirstOf(ties, tiesWanted, scalars));
        if (nanCount > 0) keep.logical_or_(nan);
        return keep.view(weights.shape).MoveToOuterDisposeScope();
    }

    /// <summary>The first <paramref name="count"/> true entries of a flat boolean tensor, by index.</summary>
    private static Tensor FirstOf(Tensor candidates, long count, OwnedScalars scalars) =>
        candidates.logical_and(candidates.cumsum(0).le(scalars.Of(count)));
}
