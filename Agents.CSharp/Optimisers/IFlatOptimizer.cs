using Prunerl.Agents.Checkpoints;
using static TorchSharp.torch;

namespace Prunerl.Agents.Optimisers;

/// <summary>
/// An optimizer over one <see cref="FlatParameters"/> buffer: each step is one pass over the buffers
/// (on CPU) or a few in-place ops on whole tensors. Its per-weight state is aligned with the flat buffer,
/// so a pruner can clear the state of pruned weights with one multiply per state tensor. Its state (the step
/// count and every state tensor) can be saved and loaded into an optimizer of the same kind over a buffer
/// of the same size.
/// </summary>
public interface IFlatOptimizer : IDisposable, ICheckpointable
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

/// <summary>Every flat optimizer's checkpoint: its step count and its state tensors in order.</summary>
internal static class FlatOptimizerState
{
    public static void Save(IFlatOptimizer optimizer, StateWriter writer)
    {
        writer.Write(optimizer.Steps);
        writer.Write(optimizer.State.Count);
        foreach (var state in optimizer.State) writer.Write(state);
    }

    /// <summary>Reads the state tensors into the optimizer's and returns the step count to set.</summary>
    public static long Load(IFlatOptimizer optimizer, StateReader reader)
    {
        var steps = reader.ReadInt64();
        var count = reader.ReadInt32();
        if (count != optimizer.State.Count)
            throw reader.Problem($"holds {count} optimizer state tensors where {optimizer.State.Count} are expected");
        foreach (var state in optimizer.State) reader.ReadInto(state);
        return steps;
    }
}
