using System.Diagnostics;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Networks;
using Prunerl.Core;

namespace Prunerl.Agents.Training;

/// <summary>Speed of the whole training loop for one network: agent steps per second, dense and pruned.</summary>
public sealed record TrainingSpeed(string Environment, TorsoKind Torso, double Width, long Steps, double DenseStepsPerSecond, double PrunedStepsPerSecond)
{
    /// <summary>How much longer a pruned step takes than a dense one, as a fraction.</summary>
    public double PruningOverhead => DenseStepsPerSecond / PrunedStepsPerSecond - 1;
}

/// <summary>What checkpointing a run costs: the checkpoint's size, and the time to save it and to load it into a fresh run.</summary>
public sealed record CheckpointCost(string Environment, long Steps, int ReplayHeld, long Bytes, double SaveSeconds, double LoadSeconds);

/// <summary>How long one SAC update takes (temperature, critics, actor, target smoothing) for one network size.</summary>
public sealed record SacUpdateSpeed(double Width, int Batch, int ObservationSize, int ActionSize, long Updates, double DenseMilliseconds, double PrunedMilliseconds);

/// <summary>
/// Measures the DQN loop as it trains (acting, replay, one batch update per step as the MinAtar DQN does),
/// dense and pruned to 90% with masks recomputed every 1000 updates (the paper's period), for `prunerl bench train`.
/// </summary>
public static class TrainingBenchmark
{
    /// <summary>
    /// Steps per second of runs of the same length and seed, dense and with <paramref name="pruning"/>,
    /// alternating <paramref name="repeats"/> times; the fastest of each counts (a busy machine only slows
    /// a run down). Give the agent a small MinReplay so that almost every measured step carries an update.
    /// The runs train on <paramref name="device"/> (the CPU when null).
    /// </summary>
    public static TrainingSpeed Measure(string environment, NetworkSpec network, AgentConfig agent, PruningRequest pruning, long steps, int repeats = 1, long seed = 0,
        TorchSharp.torch.Device? device = null)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), $"repeats must be >= 1, got {repeats}");
        double StepsPerSecond(PruningRequest? request)
        {
            // The previous run's native memory (replay, networks) goes first, so no run pays for another's.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var clock = Stopwatch.StartNew();
            DqnTraining.Run(new TrainingSpec(environment, agent, network, steps, seed, request), new RunHooks(Device: device));
            return steps / clock.Elapsed.TotalSeconds;
        }
        double dense = 0, pruned = 0;
        for (var i = 0; i < repeats; i++)
        {
            dense = Math.Max(dense, StepsPerSecond(null));
            pruned = Math.Max(pruned, StepsPerSecond(pruning));
        }
        return new TrainingSpeed(environment, network.Torso, network.Width, steps, dense, pruned);
    }

    /// <summary>
    /// Milliseconds per SAC update on random batches (after <paramref name="warmup"/> untimed ones), dense
    /// and with actor and critics pruned to 90% (ERK) during the warm-up: the agent's update alone, without
    /// acting or replay, at full sparsity (a mask recomputation every 1000 updates adds its own cost), on
    /// <paramref name="device"/> (the CPU when null; every update reads its losses back, so it waits for the device).
    /// </summary>
    public static SacUpdateSpeed MeasureSacUpdate(NetworkSpec network, SacConfig config, int observationSize, int actionSize, long updates, int warmup = 20, long seed = 0,
        TorchSharp.torch.Device? device = null)
    {
        var box = new Envs.BoxSpace(Enumerable.Repeat(-1f, actionSize).ToArray(), Enumerable.Repeat(1f, actionSize).ToArray(), [actionSize]);
        var batch = new Replay.ReplayBatch(config.BatchSize, observationSize, actionSize);
        var random = new Envs.EnvRandom((ulong)seed);
        foreach (var values in new[] { batch.Observations, batch.NextObservations, batch.ActionVectors, batch.Returns })
            for (var i = 0; i < values.Length; i++) values[i] = (float)random.Uniform(-1, 1);
        Array.Fill(batch.Discounts, 0.99f);
        double Milliseconds(Agents.PruningSetup? pruning)
        {
            using var agent = new Agents.SacAgent(config, network, observationSize, box, pruning, seed, device);
            for (var i = 0; i < warmup; i++) agent.Update(batch);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < updates; i++) agent.Update(batch);
            return clock.Elapsed.TotalMilliseconds / updates;
        }
        var atOnce = new GradualSpec(0, 0.9, Ramp.NewPolynomial(3), StepPoint.NewAbsolute(0), StepPoint.NewAbsolute(1), 1, Convention.ZhuGupta);
        var schedule = ScheduleModule.gradual(warmup + updates, atOnce).ResultValue;
        var pruned = new Agents.PruningSetup(schedule, Allocation.NewLayerWise(Distribution.NewErk(1.0)), Sparsity.paperScope);
        return new SacUpdateSpeed(network.Width, config.BatchSize, observationSize, actionSize, updates, Milliseconds(null), Milliseconds(pruned));
    }

    /// <summary>
    /// Runs the spec to its end with a checkpoint in <paramref name="directory"/>, then times one more save
    /// of its whole state and a load of it into a fresh run (the file checked whole, then read). Give the
    /// spec a MinReplay of its length to fill the replay without learning.
    /// </summary>
    public static CheckpointCost MeasureCheckpoint(TrainingSpec spec, string directory)
    {
        var hooks = new RunHooks(Checkpoints: new CheckpointPolicy(directory, long.MaxValue));
        using var session = DqnTraining.Session(spec, hooks);
        session.Run();
        var clock = Stopwatch.StartNew();
        session.Checkpoint();
        var save = clock.Elapsed.TotalSeconds;
        using var resumed = DqnTraining.Session(spec, hooks);
        clock.Restart();
        resumed.Resume();
        var load = clock.Elapsed.TotalSeconds;
        var held = (int)Math.Min(spec.TotalSteps, spec.Agent.ReplayCapacity);
        return new CheckpointCost(spec.Environment, spec.TotalSteps, held, new FileInfo(Path.Combine(directory, CheckpointFile.LatestName)).Length, save, load);
    }
}
