using static TorchSharp.torch;

namespace Prunerl.Agents.Training;

/// <summary>
/// An optimizer over one <see cref="FlatParameters"/> buffer: each step is one pass over the buffers
/// (on CPU) or a few in-place ops on whole tensors. Its per-weight state is aligned with the flat buffer,
/// so a pruner can clear the state of pruned weights with one multiply per state tensor.
/// </summary>
public interface IFlatOptimizer : IDisposable
{
    /// <summary>The parameters this optimizer updates.</summary>
    FlatParameters Parameters { get; }

    /// <summary>How many steps have been taken.</summary>
    long Steps { get; }

    /// <summary>Every per-weight state tensor, each aligned with <see cref="FlatParameters.Values"/>.</summary>
    IReadOnlyList<Tensor> State { get; }

    /// <summary>
    /// Updates the values from the gradients accumulated in <see cref="FlatParameters.Gradients"/>. With
    /// <paramref name="keep"/> (a uint8 0/1 mask aligned with the values), every entry where it is 0 steps
    /// as if its gradient were 0: its state, when already 0, stays 0, and so its value does not move.
    /// </summary>
    void Step(Tensor? keep = null);

    /// <summary>Sets every gradient to zero in place.</summary>
    void ZeroGrad();
}
