using System.Diagnostics;
using Prunerl.Agents.Networks;
using Prunerl.Core;

namespace Prunerl.Agents.Training;

/// <summary>Speed of the whole training loop for one network: agent steps per second, dense and pruned.</summary>
public sealed record TrainingSpeed(string Environment, TorsoKind Torso, double Width, long Steps, double DenseStepsPerSecond, double PrunedStepsPerSecond)
{
    /// <summary>How much longer a pruned step takes than a dense one, as a fraction.</summary>
    public double PruningOverhead => DenseStepsPerSecond / PrunedStepsPerSecond - 1;
}

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
    /// </summary>
    public static TrainingSpeed Measure(string environment, NetworkSpec network, AgentConfig agent, PruningRequest pruning, long steps, int repeats = 1, long seed = 0)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), $"repeats must be >= 1, got {repeats}");
        double StepsPerSecond(PruningRequest? request)
        {
            var clock = Stopwatch.StartNew();
            DqnTraining.Run(new TrainingSpec(environment, agent, network, steps, seed, request));
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
}
