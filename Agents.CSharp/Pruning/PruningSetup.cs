using Prunerl.Core;

namespace Prunerl.Agents.Pruning;

/// <summary>What to prune and how: a schedule over gradient updates, its spread over layers, which parameters,
/// and how per-layer targets follow the schedule (null: JaxPruner's scaled final targets, <see cref="LayerTiming.Scaled"/>).</summary>
public sealed record PruningSetup(Schedule Schedule, Allocation Allocation, Scope Scope, LayerTiming? Timing = null);
