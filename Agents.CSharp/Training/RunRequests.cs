using Prunerl.Agents.Agents;
using Prunerl.Core;

namespace Prunerl.Agents.Training;

/// <summary>Pruning as a run asks for it: the gradual schedule's steps may be fractions of the run's gradient updates.</summary>
/// <remarks><paramref name="Timing"/>: how per-layer targets follow the schedule (null: JaxPruner's, <see cref="LayerTiming.ScaledFinal"/>).</remarks>
public sealed record PruningRequest(GradualSpec Schedule, Allocation Allocation, Scope Scope, LayerTiming? Timing = null);

/// <summary>A baseline the paper compares against, applied to the online network every
/// <paramref name="Period"/> gradient updates; combinable with a dense network only.</summary>
public abstract record BaselineRequest(long Period);

/// <summary>Reset (Nikishin et al. 2022): fresh values for the last <paramref name="Layers"/> layers (1 or 2).</summary>
public sealed record ResetRequest(long Period, int Layers = 1) : BaselineRequest(Period);

/// <summary>ReDo (Sokar et al. 2023): recycle the tau-dormant neurons found on the update's batch.</summary>
public sealed record RedoRequest(long Period, double Tau = 0.1) : BaselineRequest(Period);

/// <summary>Decoupled weight decay of coefficient lambda at every update (<see cref="Regularization"/>); dense or pruned.</summary>
public sealed record WeightDecayRequest(double Coefficient) : BaselineRequest(0)
{
    /// <summary>The paper's best weight decay in Appendix G: 1e-5.</summary>
    public const double PaperCoefficient = 1e-5;
}

/// <summary>An L2 term lambda * sum w^2 over the kernels in the loss (<see cref="Regularization"/>); dense or pruned.</summary>
public sealed record L2Request(double Coefficient) : BaselineRequest(0);
