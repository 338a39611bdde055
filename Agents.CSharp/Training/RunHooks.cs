namespace Prunerl.Agents.Training;

/// <summary>
/// Checkpoints every <paramref name="Every"/> agent steps (and when cancelled, and at the end) into
/// <paramref name="Directory"/>; if Directory already holds a valid checkpoint, Run resumes from it.
/// </summary>
public sealed record CheckpointPolicy(string Directory, long Every)
{
    /// <summary>Called with the step a resume would continue from: once a resume has loaded the checkpoint, and each
    /// time a new one is in place (what a status file reports after the run is stopped); null for no one.</summary>
    public Action<long>? Resumable { get; init; }
}

/// <summary>Live progress, reported at least every 1000 agent steps and once at the end.</summary>
/// <param name="Step">Agent steps taken.</param>
/// <param name="TotalSteps">The run's length in agent steps.</param>
/// <param name="Episodes">Episodes finished.</param>
/// <param name="RecentReturn">The mean return of the last 20 episodes; NaN before the first.</param>
/// <param name="Sparsity">The schedule's current target sparsity over the pruned parameters; 0 for a dense network.</param>
/// <param name="Updates">Gradient updates taken.</param>
public readonly record struct TrainingProgress(long Step, long TotalSteps, int Episodes, double RecentReturn, double Sparsity, long Updates);

/// <summary>What a run reports to, where it checkpoints, and what stops it.</summary>
/// <param name="Evaluations">Each evaluation as it happens.</param>
/// <param name="Progress">Progress at least every 1000 agent steps and once at the end.</param>
/// <param name="Metrics">Every measurement; a rewindable sink (<see cref="MetricsLog"/>) is cut back to the checkpoint on resume.</param>
/// <param name="Checkpoints">Where and how often to checkpoint; null for none.</param>
/// <param name="Cancellation">Stops the run at the next step boundary, after checkpointing there, with an OperationCanceledException.</param>
/// <param name="Dataset">A file to write the run's experience to as a <see cref="Training.Dataset"/> when it ends (DQN family only); null for none.</param>
/// <param name="Device">Where the networks live and the updates run (null: the CPU). Not part of the run's
/// configuration: a run checkpointed on one device resumes on another. Same seed on the CPU, same run.</param>
public sealed record RunHooks(
    IProgress<EvaluationRecord>? Evaluations = null,
    IProgress<TrainingProgress>? Progress = null,
    IMetricsSink? Metrics = null,
    CheckpointPolicy? Checkpoints = null,
    CancellationToken Cancellation = default,
    string? Dataset = null,
    TorchSharp.torch.Device? Device = null)
{
    /// <summary>Where the run writes the network it acts with when it ends (<see cref="Inference.NetworkFile"/>, safetensors:
    /// the DQN family's online network, SAC's actor), before its last checkpoint; null for nowhere. Not part of the run's configuration.</summary>
    public string? FinalNetwork { get; init; }

    /// <summary>Where a gmp pruned run writes its lottery ticket when it ends (<see cref="Pruning.TicketFile"/>: its initial
    /// weights, those at its rewind step when it has one, its final masks), before its last checkpoint; null for nowhere.
    /// Not part of the run's configuration, but a run records its ticket's weights (a checkpoint section) only when given one.</summary>
    public string? Ticket { get; init; }

    /// <summary>Takes every optimizer step with torch ops, as on a GPU, even on the CPU where the fused loop
    /// applies (DQN family; to check one path against the other over whole runs).</summary>
    internal bool TorchOpsOnly { get; init; }
}
