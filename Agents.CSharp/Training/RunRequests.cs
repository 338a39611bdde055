using Prunerl.Agents.Agents;
using Prunerl.Core;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>Pruning as a run asks for it: the gradual schedule's steps may be fractions of the run's gradient updates.</summary>
/// <remarks><paramref name="Timing"/>: how per-layer targets follow the schedule (null: JaxPruner's, <see cref="LayerTiming.Scaled"/>).
/// <paramref name="Method"/>: a sparse-training method other than gradual magnitude pruning (null: gmp), at the
/// schedule's final sparsity. <paramref name="RewindStep"/>: a gmp run's lottery ticket records its weights after this
/// many gradient updates too (0: the initial weights only); a lottery run starts from the weights recorded there.</remarks>
public sealed record PruningRequest(GradualSpec Schedule, Allocation Allocation, Scope Scope, LayerTiming? Timing = null,
    SparseMethodRequest? Method = null, long RewindStep = 0);

/// <summary>
/// A sparse-training method other than gradual magnitude pruning as a run asks for it: the method, how a static mask
/// is drawn, the drop schedule of SET and RigL (its steps may be fractions of the run's gradient updates), and for a
/// lottery ticket the ticket file of the gmp run it retrains (<see cref="Pruning.TicketFile"/>).
/// </summary>
public sealed record SparseMethodRequest(SparseMethod Method, StaticInit Init, DropSpec Drop, string? TicketFile = null);

/// <summary>
/// A baseline the paper compares pruning with, as a run asks for it: which one (<paramref name="Kind"/>, the run
/// config's choice) and its settings. Reset and ReDo renew the online network every <paramref name="Period"/>
/// gradient updates and combine with a dense network only; weight decay and L2 act at every update, dense or pruned.
/// </summary>
/// <param name="Kind">Reset (Nikishin et al. 2022), ReDo (Sokar et al. 2023), decoupled weight decay or an L2 term (<see cref="Regularization"/>).</param>
/// <param name="Period">Gradient updates between renewals (Reset, ReDo).</param>
/// <param name="ResetLayers">Reset: how many of the last layers get fresh values (1 or 2).</param>
/// <param name="RedoTau">ReDo: the dormancy threshold tau of the neurons recycled on the update's batch.</param>
/// <param name="Coefficient">Weight decay and L2: the coefficient lambda.</param>
public sealed record BaselineRequest(BaselineKind Kind, long Period = 0, int ResetLayers = 1, double RedoTau = 0.1, double Coefficient = 0)
{
    /// <summary>Whether the baseline renews layers of the online network (Reset, ReDo) rather than regularising every update.</summary>
    public bool Renews => Kind.IsReset || Kind.IsRedo;
}
