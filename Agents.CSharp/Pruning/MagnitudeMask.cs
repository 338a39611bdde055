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
    public static Tensor KeepLargest(Tensor weights, long count, Tensor? eligible = null)
    {
        using var scope = NewDisposeScope();
        var score = weights.detach().flatten().abs();
        if (eligible is not null)
        {
            // |w| >= 0, so -1 ranks every ineligible entry after every eligible one.
            score = where(eligible.flatten().to_type(ScalarType.Bool), score, tensor(-1f, score.dtype, score.device));
            count = Math.Min(count, eligible.count_nonzero().item<long>());
        }
        count = Math.Clamp(count, 0, score.shape[0]);
        var (_, order) = score.sort(dim: 0, descending: true, stable: true);
        var mask = zeros(score.shape[0], ScalarType.Bool, score.device);
        mask.index_fill_(0, order.narrow(0, 0, count), true);
        return mask.view(weights.shape).MoveToOuterDisposeScope();
    }
}
