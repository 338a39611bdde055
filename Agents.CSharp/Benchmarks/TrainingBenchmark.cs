using System.Diagnostics;
using Prunerl.Agents.Training;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Networks;
using Prunerl.Core;
using Prunerl.Experiments;

namespace Prunerl.Agents.Benchmarks;

/// <summary>Speed of whole training runs: agent steps per second, dense and pruned.</summary>
public sealed record TrainingSpeed(long Steps, double DenseStepsPerSecond, double PrunedStepsPerSecond)
{
    /// <summary>How much longer a pruned step takes than a dense one, as a fraction.</summary>
    public double PruningOverhead => DenseStepsPerSecond / PrunedStepsPerSecond - 1;
}

/// <summary>What checkpointing a run costs: the checkpoint's size, and the time to save it and to load it into a fresh run.</summary>
public sealed record CheckpointCost(string Environment, long Steps, int ReplayHeld, long Bytes, double SaveSeconds, double LoadSeconds);

/// <summary>
/// Times whole training runs, dense against pruned: the DQN loop for `prunerl bench train` (acting, replay,
/// one batch update per step as the MinAtar DQN does, pruned to 90% with masks recomputed every 1000
/// updates, the paper's period), any agent family's runs for `prunerl bench agents`, and checkpoints.
/// </summary>
public static class TrainingBenchmark
{
    /// <summary>
    /// Steps per second of dense and pruned runs of <paramref name="steps"/> timed agent steps each:
    /// <paramref name="train"/>(pruned) trains one whole run. The two alternate <paramref name="repeats"/>
    /// times; the fastest of each counts (a busy machine only slows a run down). Each run is timed whole,
    /// from building its agent to its end, after a full garbage collection.
    /// </summary>
    public static TrainingSpeed DenseAgainstPruned(long steps, int repeats, Action<bool> train)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"steps must be >= 1, got {steps}");
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), $"repeats must be >= 1, got {repeats}");
        double StepsPerSecond(bool pruned)
        {
            // The previous run's native memory (replay, networks) goes first, so no run pays for another's:
            // without it, later runs in one process measured up to 42% slower (README, 'Benchmarks').
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var clock = Stopwatch.StartNew();
            train(pruned);
            return steps / clock.Elapsed.TotalSeconds;
        }
        double dense = 0, pruned = 0;
        for (var i = 0; i < repeats; i++)
        {
            dense = Math.Max(dense, StepsPerSecond(false));
            pruned = Math.Max(pruned, StepsPerSecond(true));
        }
        return new TrainingSpeed(steps, dense, pruned);
    }

    /// <summary>
    /// Steps per second of DQN runs of the same length and seed, dense and with <paramref name="pruning"/>
    /// (<see cref="DenseAgainstPruned"/>). Give the agent a small MinReplay so that almost every measured
    /// step carries an update. The runs train on <paramref name="device"/> (the CPU when null).
    /// </summary>
    public static TrainingSpeed Measure(string environment, NetworkSpec network, AgentConfig agent, PruningRequest pruning, long steps, int repeats = 1, long seed = 0,
        TorchSharp.torch.Device? device = null) =>
        DenseAgainstPruned(steps, repeats, pruned =>
            TrainingRun.Run(new RunSpec(environment, new DqnFamily(agent), network, steps, seed, pruned ? pruning : null), new RunHooks(Device: device)));

    /// <summary>
    /// Runs the spec to its end with a checkpoint in <paramref name="directory"/>, then times one more save
    /// of its whole state and a load of it into a fresh run (the file checked whole, then read). Give the
    /// spec a MinReplay of its length to fill the replay without learning.
    /// </summary>
    public static CheckpointCost MeasureCheckpoint(RunSpec spec, string directory)
    {
        var hooks = new RunHooks(Checkpoints: new CheckpointPolicy(directory, long.MaxValue));
        var family = spec.Family as DqnFamily ?? throw new ArgumentException("a DQN-family run's checkpoint is measured", nameof(spec));
        using var session = DqnTraining.Session(spec, family, hooks);
        session.Run();
        var clock = Stopwatch.StartNew();
        session.Checkpoint();
        var save = clock.Elapsed.TotalSeconds;
        using var resumed = DqnTraining.Session(spec, family, hooks);
        clock.Restart();
        resumed.Resume();
        var load = clock.Elapsed.TotalSeconds;
        var held = (int)Math.Min(spec.TotalSteps, family.Agent.ReplayCapacity);
        return new CheckpointCost(spec.Environment, spec.TotalSteps, held, new FileInfo(Path.Combine(directory, CheckpointFile.LatestName)).Length, save, load);
    }
}
