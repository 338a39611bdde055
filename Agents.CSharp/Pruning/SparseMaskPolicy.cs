using Microsoft.FSharp.Core;
using Prunerl.Agents.Checkpoints;
using Prunerl.Core;
using Prunerl.Agents.Optimisers;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>
/// How a network trained sparse from step 0 gets and keeps its masks (every method but gradual magnitude pruning):
/// the method, how a static start is drawn, the drop schedule (SET, RigL), the seed of the method's random draws
/// (a stream of the run's seed registry), and for a lottery ticket the ticket itself.
/// </summary>
public sealed record SparseTraining(SparseMethod Method, StaticInit Init, DropSchedule Drop, ulong Seed, LotteryTicket? Ticket = null)
{
    /// <summary>A lottery run's ticket per network the agent prunes, in the agent's order (SAC: actor, critics); null otherwise.</summary>
    public IReadOnlyList<LotteryTicket>? Tickets { get; init; }

    /// <summary>The training of the agent's network number <paramref name="index"/> (0 for the DQN family's online
    /// network; SAC's actor 0, critics 1): the seed's sub-stream <paramref name="index"/> (<c>Rng.deriveSeed</c>), so
    /// that networks of the same shape draw different masks, and that network's ticket.</summary>
    public SparseTraining ForNetwork(int index) => this with
    {
        Seed = RngModule.deriveSeed(Seed, index),
        Ticket = Tickets is { } tickets ? (index < tickets.Count ? tickets[index] : throw new ArgumentException($"the ticket holds {tickets.Count} networks, not network {index + 1}", nameof(index))) : Ticket,
    };
}

/// <summary>
/// The masks of static sparse training, lottery tickets, SET and RigL on a network's flat buffer, following the pure
/// core: at construction every pruned parameter gets exactly its target's kept count (<c>StaticMask.create</c>: random
/// for SET and RigL, as JaxPruner's sparse trainers start, random or by magnitude for static training; a lottery
/// ticket's final masks, with the ticket's recorded weights copied into the network), the pruned weights and their
/// optimizer state are zeroed, and the masks never change again except at a SET or RigL rewiring step, where
/// <see cref="BeforeStep"/> (which has the update's dense gradients, RigL's growth criterion) rewires each pruned
/// parameter as <c>Rewiring.layer</c> does (<see cref="TensorRewiring"/>): the dropped weights and their optimizer
/// state set to zero, the regrown ones starting at zero with zero state. Its state is the flat mask; the drop schedule
/// is a function of the step and the draws of the seed and step, so a checkpoint resumes exactly.
/// </summary>
/// <remarks>
/// JaxPruner skips the optimizer's update at a rewiring step (<c>skip_gradients</c>, base_updater.py lines 253-268 at
/// commit f133ee5); here the update's step follows the rewiring with the new masks, as the pruned optimizer's seam
/// offers no skip yet.
/// </remarks>
public sealed class SparseMaskPolicy : IMaskPolicy
{
    private readonly Plan plan;
    private readonly SparseTraining training;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> tensors;
    private readonly IFlatOptimizer optimizer;
    private readonly Tensor flatMask;
    private readonly Tensor stepMask;

    private SparseMaskPolicy(Plan plan, SparseTraining training, IReadOnlyList<TorchSharp.Modules.Parameter> tensors, IFlatOptimizer optimizer, bool[][] masks)
    {
        this.plan = plan;
        this.training = training;
        this.tensors = tensors;
        this.optimizer = optimizer;
        var values = optimizer.Parameters.Values;
        flatMask = ones_like(values).DetachFromDisposeScope();
        stepMask = empty_like(values, dtype: ScalarType.Byte).DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (var i = 0; i < masks.Length; i++)
            optimizer.Parameters.View(flatMask, i).copy_(tensor(masks[i], device: values.device).view(tensors[i].shape));
        Enforce();
    }

    /// <summary>
    /// The policy for a network bound to <paramref name="optimizer"/>'s flat buffer, at the final sparsity of
    /// <paramref name="setup"/>'s schedule spread as its allocation says, or null with the core's one-line error. A
    /// lottery ticket's recorded weights are copied into the network here.
    /// </summary>
    public static SparseMaskPolicy? TryCreate(nn.Module network, IFlatOptimizer optimizer, PruningSetup setup, SparseTraining training, out string? error)
    {
        var parameters = NetworkParameters.Describe(network);
        if (!optimizer.Parameters.Slices.Select(s => s.Name).SequenceEqual(parameters.Select(p => p.Description.Name)))
        {
            error = "the optimizer's flat parameters are not the network's parameters";
            return null;
        }
        if (training.Method.IsGMP)
        {
            error = "method gmp: gradual magnitude pruning is the magnitude pruner's";
            return null;
        }
        var sparsity = ScheduleModule.finalSparsity(setup.Schedule);
        var plan = Ok(ScheduleModule.constant(sparsity), s => PlanModule.createTimed(setup.Timing ?? LayerTiming.Scaled, s, setup.Allocation, setup.Scope, parameters.Select(p => p.Description)));
        var drop = Ok(DropFraction.validate(training.Drop), d => FSharpResult<DropSchedule, string>.NewOk(d));
        if (plan.IsError || drop.IsError)
        {
            error = plan.IsError ? plan.ErrorValue : drop.ErrorValue;
            return null;
        }
        var tensors = parameters.Select(p => p.Tensor).ToList();
        bool[][] masks;
        if (training.Method.IsLottery)
        {
            if (training.Ticket is not { } ticket)
            {
                error = "method lottery needs a ticket (the final masks and recorded weights of a pruned run)";
                return null;
            }
            if (ticket.Masks.Length != tensors.Count || ticket.Masks.Where((m, i) => m.LongLength != tensors[i].numel()).Any())
            {
                error = "the ticket's masks do not fit the network's parameters";
                return null;
            }
            masks = ticket.Masks;
            var start = LotteryTicketModule.startingWeights(ticket);
            using var _ = no_grad();
            for (var i = 0; i < tensors.Count; i++)
                tensors[i].copy_(tensor(start[i], device: tensors[i].device).view(tensors[i].shape));
        }
        else
        {
            var init = training.Method.IsStatic ? training.Init : StaticInit.RandomInit;
            var weights = tensors.Select(t => t.detach().flatten().cpu().data<float>().ToArray()).ToArray();
            var created = StaticMask.create(init, training.Seed, PlanModule.at(plan.ResultValue, 0), weights);
            if (created.IsError)
            {
                error = created.ErrorValue;
                return null;
            }
            masks = created.ResultValue;
        }
        error = null;
        return new SparseMaskPolicy(plan.ResultValue, training, tensors, optimizer, masks);
    }

    private static FSharpResult<TOut, string> Ok<TIn, TOut>(FSharpResult<TIn, string> first, Func<TIn, FSharpResult<TOut, string>> next) =>
        first.IsOk ? next(first.ResultValue) : FSharpResult<TOut, string>.NewError(first.ErrorValue);

    /// <summary>The plan whose step-0 targets the masks keep.</summary>
    public Plan Plan => plan;

    /// <summary>Nothing before the forward pass: the masks change only at a rewiring, in <see cref="BeforeStep"/>.</summary>
    public bool Update(long step) => false;

    /// <summary>At a SET or RigL rewiring step, with the update's dense flat gradients: each pruned parameter's drop and
    /// regrowth at the schedule's drop fraction, SET's draws from <c>Rewiring.growthStream</c>(seed, step, parameter).</summary>
    public void BeforeStep(long step, Tensor gradients)
    {
        if (!SparseMethodModule.rewiresAt(training.Method, training.Drop, step)) return;
        var fraction = DropFraction.at(training.Drop, step);
        var flat = optimizer.Parameters;
        using (NewDisposeScope())
        using (no_grad())
        {
            for (var i = 0; i < tensors.Count; i++)
            {
                if (!plan.Prunable.IsPrunable(i)) continue;
                var mask = flat.View(flatMask, i);
                var values = flat.View(flat.Values, i);
                using var rewired = training.Method.IsSET
                    ? TensorRewiring.Set(mask, values, fraction, RewiringModule.growthStream(training.Seed, step, i))
                    : TensorRewiring.RigL(mask, values, flat.View(gradients, i), fraction);
                mask.copy_(rewired.Mask);
                TensorRewiring.Restart(rewired.Grown, optimizer.State.Select(s => flat.View(s, i)).Append(values));
            }
        }
        Enforce();
    }

    /// <summary>The flat keep mask (uint8) every optimizer step takes.</summary>
    public Tensor? StepMask => stepMask;

    /// <summary>Sets the pruned entries of a tensor aligned with the flat buffer to zero.</summary>
    public void MaskAligned(Tensor aligned)
    {
        optimizer.Parameters.CheckAligned(aligned, nameof(aligned));
        using (no_grad()) aligned.mul_(flatMask);
    }

    /// <summary>The sparsity the masks keep at every step: the target from step 0.</summary>
    public double ScheduledSparsity(long step) => ScheduleModule.finalSparsity(plan.Schedule);

    /// <summary>Each parameter's size and non-zero count, measured on the tensors.</summary>
    public IReadOnlyList<ParameterSparsity> Measure()
    {
        using var scope = NewDisposeScope();
        var parameters = plan.Prunable.Parameters;
        return tensors.Select((t, i) => new ParameterSparsity(
            parameters[i].Name, t.shape, t.numel(), t.count_nonzero().item<long>(), plan.Prunable.IsPrunable(i))).ToList();
    }

    /// <summary>Each parameter's keep mask as the core sees it (true kept), in network order.</summary>
    public bool[][] Masks()
    {
        using var scope = NewDisposeScope();
        return tensors.Select((_, i) => optimizer.Parameters.View(flatMask, i).flatten().to_type(ScalarType.Bool).cpu().data<bool>().ToArray()).ToArray();
    }

    public void Save(StateWriter writer) => writer.Write(flatMask);

    public void Load(StateReader reader)
    {
        reader.ReadInto(flatMask);
        using (no_grad()) stepMask.copy_(flatMask);
    }

    /// <summary>The pruned weights and their optimizer state at zero, and the step mask in step with the flat mask.</summary>
    private void Enforce()
    {
        using var _ = no_grad();
        optimizer.Parameters.Values.mul_(flatMask);
        foreach (var state in optimizer.State) state.mul_(flatMask);
        stepMask.copy_(flatMask);
    }

    public void Dispose()
    {
        flatMask.Dispose();
        stepMask.Dispose();
    }
}
