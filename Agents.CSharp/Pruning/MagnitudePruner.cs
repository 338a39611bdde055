using Microsoft.FSharp.Core;
using Prunerl.Core;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>How sparse one parameter of a live network is.</summary>
public sealed record ParameterSparsity(string Name, long[] Shape, long Size, long NonZero, bool Pruned)
{
    public double Sparsity => Size == 0 ? 0 : 1.0 - (double)NonZero / Size;
}

/// <summary>
/// Applies a pruning plan to a network's live weights: at each of the plan's mask updates it
/// recomputes magnitude masks on the tensors (never reviving a pruned weight), and it holds pruned
/// weights at exactly zero whenever <see cref="ApplyMasks"/> is called (after every optimizer step).
/// </summary>
public sealed class MagnitudePruner : IDisposable
{
    private readonly Plan plan;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> tensors;
    private readonly Tensor?[] masks;

    private MagnitudePruner(Plan plan, IReadOnlyList<TorchSharp.Modules.Parameter> tensors)
    {
        this.plan = plan;
        this.tensors = tensors;
        masks = new Tensor?[tensors.Count];
    }

    /// <summary>A pruner for the network, or null with the core's one-line error.</summary>
    public static MagnitudePruner? TryCreate(nn.Module network, Schedule schedule, Allocation allocation, Scope scope, out string? error)
    {
        var parameters = NetworkParameters.Describe(network);
        FSharpResult<Plan, string> plan = PlanModule.create(schedule, allocation, scope, parameters.Select(p => p.Description));
        error = plan.IsError ? plan.ErrorValue : null;
        return plan.IsOk ? new MagnitudePruner(plan.ResultValue, parameters.Select(p => p.Tensor).ToList()) : null;
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
        }
        ApplyMasks();
        return true;
    }

    /// <summary>Sets every pruned weight to zero (call after each optimizer step).</summary>
    public void ApplyMasks()
    {
        using (no_grad())
            for (var i = 0; i < tensors.Count; i++)
                if (masks[i] is { } mask) tensors[i].mul_(mask);
    }

    /// <summary>Each parameter's size and non-zero count, measured on the tensors.</summary>
    public IReadOnlyList<ParameterSparsity> Measure()
    {
        var parameters = plan.Prunable.Parameters;
        return tensors.Select((t, i) => new ParameterSparsity(
            parameters[i].Name, t.shape, t.numel(), t.count_nonzero().item<long>(), masks[i] is not null)).ToList();
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
            Replace(i, mask.narrow(0, offset, size).view(tensors[i].shape).clone().MoveToOuterDisposeScope());
            offset += size;
        }
    }

    private void Replace(int i, Tensor mask)
    {
        masks[i]?.Dispose();
        masks[i] = mask;
    }

    public void Dispose()
    {
        foreach (var mask in masks) mask?.Dispose();
    }
}
