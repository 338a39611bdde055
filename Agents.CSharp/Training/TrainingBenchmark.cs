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
    /// Steps per second of two runs of the same length and seed, dense and with <paramref name="pruning"/>.
    /// Give the agent a small MinReplay so that almost every measured step carries an update.
    /// </summary>
    public static TrainingSpeed Measure(string environment, NetworkSpec network, AgentConfig agent, PruningRequest pruning, long steps, long seed = 0)
    {
        double StepsPerSecond(PruningRequest? request)
        {
            var clock = Stopwatch.StartNew();
            DqnTraining.Run(new TrainingSpec(environment, agent, network, steps, seed, request));
            return steps / clock.Elapsed.TotalSeconds;
        }
        var dense = StepsPerSecond(null);
        var pruned = StepsPerSecond(pruning);
        return new TrainingSpeed(environment, network.Torso, network.Width, steps, dense, pruned);
    }
}
