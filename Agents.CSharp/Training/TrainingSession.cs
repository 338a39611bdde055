using Prunerl.Agents.Agents;
using Prunerl.Agents.Analysis;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Pruning;
using Prunerl.Core;
using Prunerl.Agents.Runtime;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>
/// What the training loop needs of an agent family (DQN, SAC): acting in the vector environment and
/// storing what happened, whatever it does after each agent step (learning, target copies, analysis),
/// one evaluation action, and its state. The family owns its agent, replay memory and random streams.
/// </summary>
internal interface ILearner : IDisposable
{
    /// <summary>Chooses every copy's action at agent step <paramref name="step"/>, steps the environment and stores the transitions.</summary>
    void ActAndRemember(long step);

    /// <summary>Called after each agent step (one per copy), before any evaluation due then.</summary>
    void AfterStep(long step);

    /// <summary>Called once when the run ends (its length reached, or the target return; not when cancelled), before its last checkpoint.</summary>
    void Finish();

    /// <summary>One step of an evaluation episode: the family's evaluation action in <paramref name="environment"/>.</summary>
    StepResult EvaluationStep(Envs.Environment environment, ref EnvRandom random);

    /// <summary>Gradient updates taken: the pruning schedule's clock.</summary>
    long Updates { get; }

    /// <summary>The schedule's target sparsity now (0 for a dense network).</summary>
    double ScheduledSparsity { get; }

    /// <summary>The fraction of zeros among the pruned parameters, counted on the tensors (0 for a dense network).</summary>
    double MeasuredSparsity();

    /// <summary>Each parameter's size and non-zeros, measured on the tensors.</summary>
    IReadOnlyList<ParameterSparsity> Parameters();

    /// <summary>The family's analyses so far (the run's records keep them).</summary>
    List<AnalysisRecord> Analyses { get; }

    /// <summary>The family's baseline renewals so far.</summary>
    List<RenewalRecord> Renewals { get; }

    /// <summary>The family's own part of the run's section (its streams, held-out batch, loss windows).</summary>
    ICheckpointable RunState { get; }

    /// <summary>The network the family acts with (the DQN family's online network, SAC's actor): what a finished run keeps.</summary>
    TorchSharp.torch.nn.Module Policy { get; }

    /// <summary>The family's checkpoint sections after the run's and the environment's (agent, replay, ...).</summary>
    IEnumerable<(string Name, ICheckpointable State)> Sections();

    /// <summary>The family's optimizers by the name of the network each trains (the DQN family's online network; SAC's
    /// actor, then critics): what a lottery ticket records.</summary>
    IReadOnlyList<(string Name, PrunedOptimizer Optimizer)> Optimizers { get; }
}

/// <summary>
/// One run's loop, whatever the agent family: stepping, episodes, evaluations, progress, metrics,
/// checkpoints and resume, cancellation. The family (<see cref="ILearner"/>) acts, learns and saves its own state.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    /// <summary>Agent steps between progress reports.</summary>
    public const int ProgressEvery = 1000;

    /// <summary>Episodes in a progress report's recent mean return.</summary>
    public const int RecentEpisodes = 20;

    private readonly RunSpec spec;
    private readonly RunHooks hooks;
    private readonly IMetricsSink? metrics;
    private readonly VectorEnvironment environment;
    private readonly ILearner learner;
    /// <summary>A gmp pruned run's lottery ticket as it is recorded, when the hooks say where it goes; null otherwise, and
    /// for a run resumed from a checkpoint written before tickets were recorded (its initial weights are gone).</summary>
    private TicketRecorder? ticket;
    private readonly List<EpisodeRecord> episodes = [];
    private readonly List<EvaluationRecord> evaluations = [];
    /// <summary>Agent steps taken; the loop stops only at vector-step boundaries, where checkpoints are taken.</summary>
    private long step;
    /// <summary>Whether the run has ended (its length reached, or the target return): its last checkpoint says so.</summary>
    private bool finished;
    private long lastCheckpoint, lastProgress;

    /// <summary>A session over a new vector environment and the learner <paramref name="makeLearner"/> builds on it.</summary>
    public TrainingSession(RunSpec spec, RunHooks hooks, Func<VectorEnvironment, IMetricsSink?, ILearner> makeLearner)
    {
        if (hooks.Checkpoints is { } policy && (policy.Every < 1 || string.IsNullOrWhiteSpace(policy.Directory)))
            throw new ArgumentException($"a checkpoint policy needs a directory and a period >= 1, got '{policy.Directory}' every {policy.Every}", nameof(hooks));
        this.spec = spec;
        this.hooks = hooks;
        metrics = hooks.Metrics;
        environment = EnvironmentRegistry.CreateVector(spec.Environment, spec.Copies, spec.Options);
        learner = makeLearner(environment, metrics);
        if (hooks.Ticket is not null && spec.Pruning is { Method: null } pruning) ticket = new TicketRecorder(learner.Optimizers, pruning.RewindStep);
    }

    public TrainingResult Run()
    {
        if (!Resume()) environment.Reset((ulong)spec.Seed);
        // A resumed run reports where it stands at once: what records progress (status.json) says the checkpoint's step.
        else if (!finished) ReportProgress();
        if (finished)
        {
            // A finished run's checkpoint: its result as it ended.
            ReportProgress();
            SaveFinalNetwork();
            return Result();
        }
        while (step < spec.TotalSteps)
        {
            StopIfCancelled();
            learner.ActAndRemember(step);
            // One vector step is one agent step per copy: the schedules count agent steps.
            for (var copy = 0; copy < spec.Copies; copy++)
            {
                step++;
                if (environment.EpisodeEnded[copy]) RecordEpisode(copy);
                learner.AfterStep(step);
                ticket?.Observe(learner.Updates);
                if (Due(spec.EvaluateEvery, step) && EvaluateAt() >= spec.StopAtReturn) return Finish();
            }
            if (step >= spec.TotalSteps) break;
            if (step / ProgressEvery > lastProgress / ProgressEvery) ReportProgress();
            if (hooks.Checkpoints is { } policy && step / policy.Every > lastCheckpoint / policy.Every) Checkpoint();
        }
        return Finish();
    }

    private void RecordEpisode(int copy)
    {
        episodes.Add(new EpisodeRecord(step, environment.EpisodeReturns[copy], environment.EpisodeLengths[copy]));
        metrics?.Write(step, RunFormat.TrainEpisodeReturn, environment.EpisodeReturns[copy]);
        metrics?.Write(step, RunFormat.TrainEpisodeLength, environment.EpisodeLengths[copy]);
    }

    /// <summary>Evaluates the agent, records it (the mean, and each episode's return as a detail), and returns the mean return.</summary>
    private double EvaluateAt()
    {
        var returns = new List<double>(spec.EvaluationEpisodes);
        var evaluation = new EvaluationRecord(step, Evaluate(returns), learner.MeasuredSparsity());
        evaluations.Add(evaluation);
        hooks.Evaluations?.Report(evaluation);
        foreach (var episodeReturn in returns) metrics?.WriteDetail(step, RunFormat.EvalEpisodeReturn, episodeReturn);
        metrics?.Write(step, RunFormat.EvalReturn, evaluation.MeanReturn);
        metrics?.Write(step, RunFormat.EvalSparsity, evaluation.Sparsity);
        return evaluation.MeanReturn;
    }

    /// <summary>Mean return of evaluation episodes on a fresh environment seeded from the run and the step; each
    /// episode's return goes into <paramref name="returns"/>. The mean sums every reward in order, as it always has.</summary>
    private double Evaluate(List<double> returns)
    {
        var evaluation = EnvironmentRegistry.Create(spec.Environment, spec.Options);
        var random = new EnvRandom(EnvRandom.Derive((ulong)spec.Seed ^ (ulong)step, SeedStreams.EvaluationActing));
        var total = 0.0;
        evaluation.Reset(EnvRandom.Derive((ulong)spec.Seed ^ (ulong)step, SeedStreams.EvaluationEnvironment));
        for (var episode = 0; episode < spec.EvaluationEpisodes; episode++)
        {
            if (episode > 0) evaluation.Reset();
            var episodeReturn = 0.0;
            StepResult result;
            do
            {
                result = learner.EvaluationStep(evaluation, ref random);
                total += result.Reward;
                episodeReturn += result.Reward;
            } while (!result.Done);
            returns.Add(episodeReturn);
        }
        return total / spec.EvaluationEpisodes;
    }

    private void ReportProgress()
    {
        lastProgress = step;
        if (hooks.Progress is not { } progress) return;
        var recent = episodes.Count == 0 ? double.NaN : episodes.TakeLast(RecentEpisodes).Average(e => (double)e.Return);
        progress.Report(new TrainingProgress(step, spec.TotalSteps, episodes.Count, recent, learner.ScheduledSparsity, learner.Updates));
    }

    /// <summary>The run has ended: the last progress report, and a checkpoint that says so (resuming it gives this result).</summary>
    private TrainingResult Finish()
    {
        finished = true;
        ReportProgress();
        learner.Finish();
        ticket?.Write(hooks.Ticket!);
        SaveFinalNetwork();
        if (hooks.Checkpoints is not null) Checkpoint();
        return Result();
    }

    /// <summary>Writes the network the run acts with where the hooks say, if they say.</summary>
    private void SaveFinalNetwork()
    {
        if (hooks.FinalNetwork is { } path) Inference.NetworkFile.Save(learner.Policy, path, Inference.WeightFormat.Safetensors);
    }

    /// <summary>When cancelled: a progress report and a checkpoint at this step boundary (if there is not one
    /// already), then the cancellation; the report lets what records progress (status.json) agree with the checkpoint.</summary>
    private void StopIfCancelled()
    {
        if (!hooks.Cancellation.IsCancellationRequested) return;
        if (lastProgress != step) ReportProgress();
        if (hooks.Checkpoints is not null && lastCheckpoint != step) Checkpoint();
        throw new OperationCanceledException($"the run was cancelled at step {step}", hooks.Cancellation);
    }

    /// <summary>Whether a period's event falls on <paramref name="step"/> (never for a period of 0).</summary>
    public static bool Due(long period, long step) => period > 0 && step % period == 0;

    private TrainingResult Result() =>
        new(episodes, evaluations, learner.Analyses, learner.Renewals, learner.Updates, learner.Parameters());

    /// <summary>Writes everything the run holds as the latest checkpoint in the policy's directory.</summary>
    public void Checkpoint()
    {
        lastCheckpoint = step;
        var policy = hooks.Checkpoints!;
        try
        {
            RunCheckpoint.Save(policy.Directory, Sections(), spec.Configuration, metrics as IRewindableMetrics);
        }
        catch (IOException e)
        {
            // The real cause (a full disk, say), not whatever fails after it; the previous checkpoint stays in place.
            throw new IOException($"cannot write the checkpoint at step {step} in {policy.Directory}: {e.Message}", e);
        }
        policy.Resumable?.Invoke(step);
    }

    /// <summary>Loads the checkpoint in the policy's directory, if there is one; whether it did.</summary>
    public bool Resume()
    {
        if (hooks.Checkpoints is not { } policy || CheckpointFile.Find(policy.Directory) is not { } path) return false;
        if (ticket is not null && !HasTicket(path))
        {
            ticket.Dispose();
            ticket = null;
        }
        RunCheckpoint.Load(path, Sections(), spec.Configuration, metrics as IRewindableMetrics);
        lastCheckpoint = lastProgress = step;
        policy.Resumable?.Invoke(step);
        return true;
    }

    /// <summary>Whether a checkpoint holds a lottery ticket being recorded (a gmp run's checkpoint written before tickets
    /// were recorded holds none: the run resumes, and writes no ticket). A file that cannot be opened is the load's to refuse.</summary>
    private static bool HasTicket(string path)
    {
        try
        {
            using var file = CheckpointFile.Open(path);
            return file.Has("ticket");
        }
        catch (CheckpointException)
        {
            return true;
        }
    }

    /// <summary>Everything the run holds, by section: the run's own counters and records, the environment, then the family's parts.</summary>
    private List<(string Name, ICheckpointable State)> Sections() =>
        [("run", new RunState(this)), ("environment", environment), .. learner.Sections(), .. TicketSection()];

    private IEnumerable<(string Name, ICheckpointable State)> TicketSection()
    {
        if (ticket is not null) yield return ("ticket", ticket);
    }

    public void Dispose()
    {
        ticket?.Dispose();
        learner.Dispose();
    }

    /// <summary>The session's own state (position, flags), the family's run state, and the records.</summary>
    private sealed class RunState(TrainingSession session) : ICheckpointable
    {
        public void Save(StateWriter writer)
        {
            writer.Write(session.step);
            writer.Write(session.finished);
            session.learner.RunState.Save(writer);
            RunRecords.Save(writer, session.episodes, session.evaluations, session.learner.Analyses, session.learner.Renewals);
        }

        public void Load(StateReader reader)
        {
            session.step = reader.ReadInt64();
            session.finished = reader.ReadBoolean();
            session.learner.RunState.Load(reader);
            RunRecords.Load(reader, session.episodes, session.evaluations, session.learner.Analyses, session.learner.Renewals);
        }
    }
}
