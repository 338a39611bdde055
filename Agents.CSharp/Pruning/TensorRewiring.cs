using Prunerl.Agents.Runtime;
using Prunerl.Core;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>
/// One layer's SET or RigL mask update on tensors, equal entry for entry to the pure core's <c>Rewiring.layer</c>
/// (a differential property checks it): drop the d = <c>Rewiring.dropCount</c> kept weights of smallest |w|, regrow d
/// among the positions pruned before the update, at random from the core's stream (SET) or where the dense
/// gradient's magnitude is largest (RigL). The rankings are <see cref="MagnitudeMask.KeepLargest"/>'s selections
/// (the core's importance order, no full sort); SET's draw is the core's <c>Rng.sample</c> over the pruned positions,
/// so the same stream picks the same positions in both.
/// </summary>
public static class TensorRewiring
{
    /// <summary>SET's update of one layer: the new mask and the regrown positions (bool tensors of the weights' shape).</summary>
    public static Rewired Set(Tensor mask, Tensor weights, double fraction, Rng stream) =>
        Update(mask, weights, fraction, (pruned, d) => Sampled(pruned, d, stream));

    /// <summary>RigL's update of one layer, regrowing where |<paramref name="gradient"/>| is largest.</summary>
    public static Rewired RigL(Tensor mask, Tensor weights, Tensor gradient, double fraction) =>
        Update(mask, weights, fraction, (pruned, d) => MagnitudeMask.KeepLargest(gradient.flatten(), d, pruned));

    private static Rewired Update(Tensor mask, Tensor weights, double fraction, Func<Tensor, long, Tensor> grow)
    {
        using var scope = NewDisposeScope();
        var kept = mask.flatten().to_type(ScalarType.Bool);
        var k = kept.count_nonzero().item<long>();
        var d = RewiringModule.dropCount(fraction, k, kept.shape[0]);
        var survivors = MagnitudeMask.KeepLargest(weights.flatten(), k - d, kept);
        var grown = grow(kept.logical_not(), d);
        var next = survivors.logical_or(grown);
        return new Rewired(next.view(mask.shape).MoveToOuterDisposeScope(), grown.view(mask.shape).MoveToOuterDisposeScope(), d);
    }

    /// <summary>The <paramref name="count"/> positions of <paramref name="pruned"/> the core's Rng.sample draws.</summary>
    private static Tensor Sampled(Tensor pruned, long count, Rng stream)
    {
        var candidates = pruned.nonzero().flatten().to_type(ScalarType.Int32).cpu().data<int>().ToArray();
        var grown = new bool[pruned.shape[0]];
        foreach (var i in RngModule.sample((int)count, candidates, stream).Item1) grown[i] = true;
        return tensor(grown, device: pruned.device);
    }

    /// <summary>
    /// Zeroes the regrown positions of every tensor aligned with them (the weights and each optimizer state tensor):
    /// a regrown weight starts at zero with zero optimizer state (JaxPruner's restart_inner_state, as the core's
    /// <c>Rewiring.restart</c>).
    /// </summary>
    public static void Restart(Tensor grown, IEnumerable<Tensor> aligned)
    {
        using var scope = NewDisposeScope();
        using var scalars = new OwnedScalars();
        using var _ = no_grad();
        var flat = grown.flatten().to_type(ScalarType.Bool);
        foreach (var t in aligned) t.view(-1).masked_fill_(flat, scalars.Of(0f));
    }
}

/// <summary>A layer's mask after a SET or RigL update, the positions regrown (bool tensors of the layer's shape) and how
/// many were dropped (as many as were regrown). The caller owns the tensors.</summary>
public sealed record Rewired(Tensor Mask, Tensor Grown, long Dropped) : IDisposable
{
    public void Dispose()
    {
        Mask.Dispose();
        Grown.Dispose();
    }
}
