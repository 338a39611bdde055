using Prunerl.Core;

namespace Prunerl.Agents.Pruning;

/// <summary>What to prune and how: a schedule over gradient updates, its spread over layers, which parameters,
/// how per-layer targets follow the schedule (null: JaxPruner's scaled final targets, <see cref="LayerTiming.Scaled"/>),
/// and the sparse-training method when it is not gradual magnitude pruning (null: gmp, <see cref="MagnitudePruner"/>;
/// else <see cref="SparseMaskPolicy"/> at the schedule's final sparsity).</summary>
public sealed record PruningSetup(Schedule Schedule, Allocation Allocation, Scope Scope, LayerTiming? Timing = null, SparseTraining? Training = null)
{
    /// <summary>The setup of the agent's network number <paramref name="index"/> (<see cref="SparseTraining.ForNetwork"/>).</summary>
    public PruningSetup ForNetwork(int index) => Training is { } training ? this with { Training = training.ForNetwork(index) } : this;
}
