using Prunerl.Agents.Pruning;
using Prunerl.Core;
using Prunerl.Agents.Runtime;

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

    /// <summary>A pruning request made concrete over a run of <paramref name="totalUpdates"/> gradient updates; null for
    /// none. A method other than gmp gets its drop schedule over those updates, the seed of its draws (stream
    /// <see cref="SeedStreams.SparseMasks"/> of the run's <paramref name="seed"/>) and, for a lottery ticket, the
    /// tickets read from its file; a schedule or ticket that cannot be had is an ArgumentException with a one-line error.</summary>
    public static PruningSetup? Setup(PruningRequest? request, long totalUpdates, long seed)
    {
        if (request is null) return null;
        var updates = Math.Max(1, totalUpdates);
        var schedule = ScheduleModule.gradual(updates, request.Schedule);
        if (schedule.IsError) throw new ArgumentException(schedule.ErrorValue, "spec");
        var setup = new PruningSetup(schedule.ResultValue, request.Allocation, request.Scope, request.Timing);
        if (request.Method is not { } method) return setup;
        var drop = DropFraction.create(updates, method.Drop);
        if (drop.IsError) throw new ArgumentException(drop.ErrorValue, "spec");
        IReadOnlyList<LotteryTicket>? tickets = null;
        if (method.Method.IsLottery)
        {
            var file = method.TicketFile ?? throw new ArgumentException("method lottery needs a ticket file", "spec");
            tickets = TicketFile.TryTickets(file, request.RewindStep, out var error) ?? throw new ArgumentException(error, "spec");
        }
        return setup with
        {
            Training = new SparseTraining(method.Method, method.Init, drop.ResultValue, SeedStreams.Seed(seed, SeedStreams.SparseMasks)) { Tickets = tickets },
        };
    }
}
