using Prunerl.Agents.Envs;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Replay;
using Prunerl.Core;
using Prunerl.Agents.Checkpoints;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>
/// One offline run: a DQN-family agent trained only on a recorded dataset with CQL's regulariser (CQL for
/// expected values, CQL+C51 with a distributional agent), pruned or dense, and evaluated in the environment.
/// Everything counted in steps counts gradient updates here (<see cref="AgentConfigModule.offlineClock"/>):
/// the pruning schedule's length is <paramref name="Updates"/>, evaluations and analyses are every so many updates.
/// </summary>
/// <param name="Environment">The environment the dataset was recorded on (checked), for evaluation.</param>
/// <param name="Dataset">The dataset file (<see cref="Training.Dataset"/>).</param>
/// <param name="Agent">The agent's hyperparameters; its replay capacity, exploration and warm-up do not apply.</param>
/// <param name="Network">The network's shape and width.</param>
/// <param name="Updates">Gradient updates, each on a batch drawn from the dataset.</param>
/// <param name="Seed">Seed of everything random in the run.</param>
/// <param name="ConservativeWeight">CQL's alpha (<see cref="Agents.ConservativeQ"/>); 0 is plain offline DQN / C51.
/// The published settings are <see cref="DqnAlpha"/> for CQL and <see cref="C51Alpha"/> for CQL+C51 (sources: <see cref="Prunerl.Experiments.ConservativeWeight"/>).</param>
/// <param name="Pruning">Gradual magnitude pruning over the updates, or null for a dense network.</param>
/// <param name="EvaluateEvery">Updates between evaluations (0: none).</param>
/// <param name="EvaluationEpisodes">Episodes per evaluation.</param>
/// <param name="Options">Environment options for evaluation (MinAtar's stickiness, ramping, action set).</param>
/// <param name="StopAtReturn">Ends the run once an evaluation's mean return reaches this; null to run to the end.</param>
/// <param name="AnalyseEvery">Updates between measurements of the network on a held-out batch (0: none).</param>
/// <param name="Baseline">Reset or ReDo, every so many updates, for a dense network; null for none.</param>
/// <param name="SrankStates">Dataset states srank is measured on (<see cref="TrainingSpec.SrankStates"/>).</param>
/// <param name="DormantStates">Dataset states dormant neurons and Q statistics are measured on (<see cref="TrainingSpec.DormantStates"/>).</param>
public sealed record OfflineSpec(
    string Environment,
    string Dataset,
    AgentConfig Agent,
    NetworkSpec Network,
    long Updates,
    long Seed,
    double ConservativeWeight,
    PruningRequest? Pruning = null,
    long EvaluateEvery = 0,
    int EvaluationEpisodes = 10,
    EnvironmentOptions? Options = null,
    double? StopAtReturn = null,
    long AnalyseEvery = 0,
    BaselineRequest? Baseline = null,
    int SrankStates = 2048,
    int DormantStates = 256)
{
    /// <summary>CQL's alpha for a DQN: 1.0, the CQL reference code's Atari setting on 10% of the DQN Replay Dataset (4.0 on 1%; <see cref="Prunerl.Experiments.ConservativeWeight.dqn"/>).</summary>
    public static double DqnAlpha => Prunerl.Experiments.ConservativeWeight.dqn;

    /// <summary>CQL's alpha for C51: 0.1, Dopamine's offline C51 agents' CQL coefficient (<see cref="Prunerl.Experiments.ConservativeWeight.c51"/>).</summary>
    public static double C51Alpha => Prunerl.Experiments.ConservativeWeight.c51;

    /// <summary>The online run this one follows, on the offline clock: a step is a gradient update.</summary>
    internal TrainingSpec Clock =>
        new(Environment, AgentConfigModule.offlineClock(Agent), Network, Updates, Seed, Pruning, 1, EvaluateEvery, EvaluationEpisodes,
            Options, StopAtReturn, AnalyseEvery, Baseline, SrankStates, DormantStates);
}

/// <summary>What makes a run offline: its spec (the run's configuration, CQL's weight) and the dataset read.</summary>
internal sealed record OfflineSource(OfflineSpec Spec, Dataset Data)
{
    /// <summary>A replay memory of the agent's scheme holding the whole dataset.</summary>
    public IReplayMemory Replay(AgentConfig config)
    {
        var memory = DqnTraining.MakeReplay(config, Data.ReplayOptions(config.NStep, config.Gamma));
        Data.Fill(memory);
        if (memory.SampleableCount < config.BatchSize)
            throw new CheckpointException($"{Data.Path}: {memory.SampleableCount} transitions can be sampled, fewer than a batch of {config.BatchSize}");
        return memory;
    }
}

/// <summary>Offline training: the DQN training loop, learning from a dataset instead of acting.</summary>
public static class OfflineTraining
{
    /// <summary>
    /// Trains an agent on the spec's dataset and returns its evaluations, analyses and renewals (no
    /// episodes: it acts only to be evaluated). Hooks, checkpoints, resume and cancellation work as in
    /// <see cref="DqnTraining.Run"/>, with steps counting gradient updates. A dataset that cannot be read,
    /// or was recorded on another environment, is a one-line <see cref="CheckpointException"/>.
    /// </summary>
    public static TrainingResult Run(OfflineSpec spec, RunHooks? hooks = null)
    {
        if (spec.Updates < 1) throw new ArgumentOutOfRangeException(nameof(spec), $"an offline run takes at least 1 update, got {spec.Updates}");
        var source = new OfflineSource(spec, Training.Dataset.Read(spec.Dataset));
        using var session = DqnTraining.Session(spec.Clock, hooks ?? new RunHooks(), source);
        return session.Run();
    }
}
