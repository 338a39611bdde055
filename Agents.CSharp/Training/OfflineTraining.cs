using Prunerl.Agents.Replay;
using Prunerl.Agents.Checkpoints;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>What makes a run offline: its family part (the dataset, CQL's weight) and the dataset read.</summary>
internal sealed record OfflineSource(OfflineFamily Family, Dataset Data)
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
    /// Trains an agent on the family's dataset and returns its evaluations, analyses and renewals (no
    /// episodes: it acts only to be evaluated). Hooks, checkpoints, resume and cancellation work as in
    /// <see cref="DqnTraining.Run"/>, with steps counting gradient updates. A dataset that cannot be read,
    /// or was recorded on another environment, is a one-line <see cref="CheckpointException"/>.
    /// </summary>
    internal static TrainingResult Run(RunSpec spec, OfflineFamily family, RunHooks hooks)
    {
        if (spec.TotalSteps < 1) throw new ArgumentOutOfRangeException(nameof(spec), $"an offline run takes at least 1 update, got {spec.TotalSteps}");
        if (spec.Copies != 1) throw new ArgumentOutOfRangeException(nameof(spec), $"an offline run acts in one environment copy, to be evaluated; got {spec.Copies}");
        var source = new OfflineSource(family, Training.Dataset.Read(family.Dataset));
        using var session = DqnTraining.Session(spec, family.Clocked, hooks, source);
        return session.Run();
    }
}
