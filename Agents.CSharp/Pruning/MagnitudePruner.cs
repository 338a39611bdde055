using Microsoft.FSharp.Core;
using Prunerl.Agents.Checkpoints;
using Prunerl.Core;
using Prunerl.Agents.Optimisers;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>How sparse one parameter of a live network is.</summary>
/// <remarks><paramref name="Pruned"/>: whether the pruning plan prunes this parameter.</remarks>
public sealed record ParameterSparsity(string Name, long[] Shape, long Size, long NonZero, bool Pruned)
{
    public double Sparsity => Size == 0 ? 0 : 1.0 - (double)NonZero / Size;

    /// <summary>Each parameter of a network measured on its tensors: the pruner's view when there is one, else all dense.</summary>
    public static IReadOnlyList<ParameterSparsity> Of(nn.Module network, IMaskPolicy? pruner)
    {
        if (pruner is not null) return pruner.Measure();
        using var scope = NewDisposeScope();
        return network.named_parameters()
            .Select(p => new ParameterSparsity(p.name, p.parameter.shape, p.parameter.numel(), p.parameter.count_nonzero().item<long>(), false))
            .ToList();
    }
}

/// <summary>
/// Applies a pruning plan to a network's live weights: at each of the plan's mask updates it
/// recomputes magnitude masks on the tensors (never reviving a pruned weight), and it holds pruned
/// weights at exactly zero whenever <see cref="ApplyMasks"/> is called (after every optimizer step).
/// Attached to a network whose parameters are a <see cref="FlatParameters"/> buffer, it keeps one flat
/// mask aligned with that buffer (ones for dense parameters; each parameter's mask is a view of it), so
/// <see cref="ApplyMasks"/> is one multiply, and at every mask update it also multiplies the optimizer's
/// per-weight state by the mask: a pruned weight's running averages are zero, so an optimizer step given
/// <see cref="StepMask"/> (which counts its gradient as zero) leaves it at exactly zero, with no pass of
/// its own over the weights.
/// Its state is the masks (which parameters have one yet, and their values), saved and loaded whole.
/// </summary>
public sealed class MagnitudePruner : IMaskPolicy
{
    private readonly Plan plan;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> tensors;
    private readonly Tensor?[] masks;
    private readonly IFlatOptimizer? optimizer;
    private readonly Tensor? flatMask;
    /// <summary>The flat mask as bytes for the optimizer's step (a quarter of the float mask's memory traffic); null until the first mask update.</summary>
    private Tensor? stepMask;

    private MagnitudePruner(Plan plan, IReadOnlyList<TorchSharp.Modules.Parameter> tensors, IFlatOptimizer? optimizer)
    {
        this.plan = plan;
        this.tensors = tensors;
        this.optimizer = optimizer;
        masks = new Tensor?[tensors.Count];
        flatMask = optimizer is null ? null : ones_like(optimizer.Parameters.Values);
    }

    /// <summary>A pruner for the network, or null with the core's one-line error.</summary>
    public static MagnitudePruner? TryCreate(nn.Module network, Schedule schedule, Allocation allocation, Scope scope, out string? error) =>
        TryCreate(network, null, schedule, allocation, scope, out error);

    /// <summary>
    /// A pruner for a network bound to the flat buffer that <paramref name="optimizer"/> updates (one flat
    /// mask; the optimizer's state of pruned weights cleared at each mask update), or null with a
    /// one-line error.
    /// </summary>
    public static MagnitudePruner? TryCreate(nn.Module network, IFlatOptimizer? optimizer, Schedule schedule, Allocation allocation, Scope scope, out string? error) =>
        TryCreate(network, optimizer, new PruningSetup(schedule, allocation, scope), out error);

    /// <summary>A pruner for a network (bound to <paramref name="optimizer"/>'s flat buffer when given) following a
    /// run's pruning setup, per-layer targets timed as it says (JaxPruner's scaled final targets when it says
    /// nothing), or null with a one-line error.</summary>
    public static MagnitudePruner? TryCreate(nn.Module network, IFlatOptimizer? optimizer, PruningSetup setup, out string? error)
    {
        var (schedule, allocation, scope) = (setup.Schedule, setup.Allocation, setup.Scope);
        var parameters = NetworkParameters.Describe(network);
        if (optimizer is not null && !optimizer.Parameters.Slices.Select(s => s.Name).SequenceEqual(parameters.Select(p => p.Description.Name)))
        {
            error = "the optimizer's flat parameters are not the network's parameters";
            return null;
        }
        FSharpResult<Plan, string> plan = PlanModule.createTimed(setup.Timing ?? LayerTiming.Scaled, schedule, allocation, scope, parameters.Select(p => p.Description));
        error = plan.IsError ? plan.ErrorValue : null;
        return plan.IsOk ? new MagnitudePruner(plan.ResultValue, parameters.Select(p => p.Tensor).ToList(), optimizer) : null;
    }

    /// <summary>The plan this pruner follows.</summary>
    public Plan Plan => plan;

    /// <summary>
    /// Recomputes the masks if <paramref name="step"/> is a mask update of the schedule, then applies
    /// them. Returns whether the masks were recomputed.
    /// </summary>
    public bool Update(long step)
    {
        if (!ScheduleModule.isUpdateStep(plan.Schedule, step)) return false;
        var targets = PlanModule.at(plan, step);
        using (NewDisposeScope())
        using (no_grad())
        {
            var pooled = new List<int>();
            for (var i = 0; i < tensors.Count; i++)
            {
                var target = targets.Layers[i].Target;
                if (target is LayerTarget.Keep keep) Replace(i, MagnitudeMask.KeepLargest(tensors[i], keep.count, masks[i]));
                else if (target.IsPooled) pooled.Add(i);
            }
            if (pooled.Count > 0) UpdatePooled(pooled, targets.PrunableKept);
            if (optimizer is not null)
            {
                foreach (var state in optimizer.State) state.mul_(flatMask!);
                SyncStepMask();
            }
        }
        ApplyMasks();
        return true;
    }

    /// <summary>Nothing: magnitude pruning reads the weights only.</summary>
    public void BeforeStep(long step, Tensor gradients) { }

    /// <summary>The schedule's sparsity after <paramref name="step"/> gradient updates (held between mask updates).</summary>
    public double ScheduledSparsity(long step) => ScheduleModule.sparsityAt(plan.Schedule, step);

    /// <summary>Sets every pruned weight to zero (call after each optimizer step).</summary>
    public void ApplyMasks()
    {
        using (no_grad())
            if (optimizer is not null) optimizer.Parameters.Values.mul_(flatMask!);
            else
                for (var i = 0; i < tensors.Count; i++)
                    if (masks[i] is { } mask) tensors[i].mul_(mask);
    }

    /// <summary>
    /// Sets the entries of pruned weights to zero in a tensor aligned with the flat buffer, such as a
    /// target network's values kept by Polyak averaging (so it holds the online network's sparsity).
    /// </summary>
    public void MaskAligned(Tensor aligned)
    {
        if (flatMask is null) throw new InvalidOperationException("masking an aligned tensor needs a pruner created with a flat optimizer");
        if (aligned.shape.Length != 1 || aligned.shape[0] != flatMask.shape[0])
            throw new ArgumentException($"expected a flat tensor of {flatMask.shape[0]} entries, got [{string.Join(", ", aligned.shape)}]", nameof(aligned));
        using (no_grad()) aligned.mul_(flatMask);
    }

    /// <summary>
    /// The flat mask (uint8, 1 kept, 0 pruned) to pass to every <see cref="IFlatOptimizer.Step"/>: the step
    /// then counts pruned weights' gradients as zero and, their state having been cleared at the mask
    /// update, leaves them at exactly zero. Null before the first mask update (nothing is pruned yet) and
    /// without a flat optimizer.
    /// </summary>
    public Tensor? StepMask => stepMask;

    /// <summary>Each parameter's size and non-zero count, measured on the tensors.</summary>
    public IReadOnlyList<ParameterSparsity> Measure()
    {
        using var scope = NewDisposeScope();
        var parameters = plan.Prunable.Parameters;
        return tensors.Select((t, i) => new ParameterSparsity(
            parameters[i].Name, t.shape, t.numel(), t.count_nonzero().item<long>(), plan.Prunable.IsPrunable(i))).ToList();
    }

    public void Save(StateWriter writer)
    {
        writer.Write(masks.Length);
        foreach (var mask in masks)
        {
            writer.Write(mask is not null);
            if (mask is not null && flatMask is null) writer.Write(mask);
        }
        if (flatMask is not null) writer.Write(flatMask);
    }

    public void Load(StateReader reader)
    {
        // The masks made here are detached from it; the views' intermediates are not.
        using var scope = NewDisposeScope();
        var count = reader.ReadInt32();
        if (count != masks.Length) throw reader.Problem($"holds masks for {count} parameters where the network has {masks.Length}");
        var present = new bool[count];
        for (var i = 0; i < count; i++)
        {
            present[i] = reader.ReadBoolean();
            if (!present[i])
            {
                masks[i]?.Dispose();
                masks[i] = null;
            }
            else if (flatMask is null)
            {
                masks[i] ??= zeros_like(tensors[i]).DetachFromDisposeScope();
                reader.ReadInto(masks[i]!);
            }
        }
        if (flatMask is null) return;
        reader.ReadInto(flatMask);
        for (var i = 0; i < count; i++)
            if (present[i]) masks[i] ??= optimizer!.Parameters.View(flatMask, i).DetachFromDisposeScope();
        SyncStepMask();
    }

    /// <summary>The flat mask copied into <see cref="StepMask"/> once any parameter has a mask (null before).</summary>
    private void SyncStepMask()
    {
        if (!Array.Exists(masks, m => m is not null))
        {
            stepMask?.Dispose();
            stepMask = null;
            return;
        }
        stepMask ??= empty_like(flatMask!, dtype: ScalarType.Byte).DetachFromDisposeScope();
        stepMask.copy_(flatMask!);
    }

    /// <summary>Global magnitude pruning: one ranking over all pooled parameters together.</summary>
    private void UpdatePooled(List<int> pooled, long kept)
    {
        using var scope = NewDisposeScope();
        var weights = cat(pooled.Select(i => tensors[i].detach().flatten()).ToList(), 0);
        var previous = pooled.All(i => masks[i] is not null)
            ? cat(pooled.Select(i => masks[i]!.flatten()).ToList(), 0)
            : null;
        var mask = MagnitudeMask.KeepLargest(weights, kept, previous);
        var offset = 0L;
        foreach (var i in pooled)
        {
            var size = tensors[i].numel();
            Replace(i, mask.narrow(0, offset, size).view(tensors[i].shape));
            offset += size;
        }
    }

    /// <summary>
    /// Makes <paramref name="mask"/> parameter <paramref name="i"/>'s mask (a view of the flat mask when
    /// there is one), held in the weights' dtype: multiplying floats by a bool mask costs ~9x more on CPU.
    /// </summary>
    private void Replace(int i, Tensor mask)
    {
        if (optimizer is null)
        {
            masks[i]?.Dispose();
            masks[i] = mask.to_type(tensors[i].dtype).DetachFromDisposeScope();
            return;
        }
        masks[i] ??= optimizer.Parameters.View(flatMask!, i).DetachFromDisposeScope();
        masks[i]!.copy_(mask);
    }

    public void Dispose()
    {
        foreach (var mask in masks) mask?.Dispose();
        flatMask?.Dispose();
        stepMask?.Dispose();
    }
}
