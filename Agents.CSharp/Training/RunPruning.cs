using Prunerl.Agents.Pruning;
using Prunerl.Core;

namespace Prunerl.Agents.Training;

/// <summary>Pruning as every agent family's run does it.</summary>
internal static class RunPruning
{
    /// <summary>The fraction of zeros among the pruned parameters, counted on the tensors.</summary>
    public static double MeasuredSparsity(params IMaskPolicy?[] pruners)
    {
        var pruned = pruners.OfType<IMaskPolicy>().SelectMany(p => p.Measure()).Where(p => p.Pruned).ToList();
        var size = pruned.Sum(p => p.Size);
        return size == 0 ? 0 : 1.0 - (double)pruned.Sum(p => p.NonZero) / size;
    }

    /// <summary>A pruning request made concrete over a run of <paramref name="totalUpdates"/> gradient updates; null for none.</summary>
    public static PruningSetup? Setup(PruningRequest? request, long totalUpdates)
    {
        if (request is null) return null;
        var schedule = ScheduleModule.gradual(Math.Max(1, totalUpdates), request.Schedule);
        return schedule.IsOk ? new PruningSetup(schedule.ResultValue, request.Allocation, request.Scope, request.Timing)
            : throw new ArgumentException(schedule.ErrorValue, "spec");
    }
}
