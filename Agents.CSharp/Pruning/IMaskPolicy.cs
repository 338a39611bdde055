using Prunerl.Agents.Checkpoints;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>
/// How a sparse-training method keeps a network's masks over training: the seam a <see cref="PrunedOptimizer"/>
/// steps through (JaxPruner's BaseUpdater, whose <c>wrap_optax</c> and <c>post_gradient_update</c> every method shares).
/// Gradual magnitude pruning is <see cref="MagnitudePruner"/>; the methods of issue 18 are <see cref="SparseMaskPolicy"/>,
/// plugged in here by <see cref="PrunedOptimizer.Create"/> without touching the agents: a static sparse mask or a lottery ticket sets its masks once and answers false ever after; SET drops
/// the smallest kept weights and regrows at random at its mask updates (from a stream of its own, in the registry
/// <c>SeedStreams</c>); RigL regrows where the dense gradient is largest, which <see cref="BeforeStep"/> hands it at
/// the update that has one (the flat gradients are dense there: a pruned weight's gradient is computed, then ignored
/// by the step). Every method keeps its masks aligned with the optimizer's flat buffer and clears the optimizer state
/// of the weights it prunes, so the masked step leaves them at exactly zero; its state is the masks and whatever its
/// schedule holds, saved and loaded whole.
/// </summary>
public interface IMaskPolicy : IDisposable, ICheckpointable
{
    /// <summary>Before the gradient update numbered <paramref name="step"/> (updates taken so far): recomputes the masks
    /// when the method's schedule has a mask update there, applies them to the weights and clears the pruned weights'
    /// optimizer state; whether it changed them.</summary>
    bool Update(long step);

    /// <summary>Between the update's backward pass and its optimizer step, with the flat gradients (aligned with the
    /// flat values): where a method that grows by gradient (RigL) reads them; nothing for the others.</summary>
    void BeforeStep(long step, Tensor gradients);

    /// <summary>The flat keep mask (uint8, 1 kept) every optimizer step takes; null while nothing is pruned.</summary>
    Tensor? StepMask { get; }

    /// <summary>Sets the pruned entries of a tensor aligned with the flat buffer to zero (a Polyak-averaged target network).</summary>
    void MaskAligned(Tensor aligned);

    /// <summary>The sparsity the method aims at after <paramref name="step"/> gradient updates (its schedule's target).</summary>
    double ScheduledSparsity(long step);

    /// <summary>Each parameter's size and non-zeros, measured on the tensors, and whether the method prunes it.</summary>
    IReadOnlyList<ParameterSparsity> Measure();
}
