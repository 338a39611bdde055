using Prunerl.Agents.Agents;
using Prunerl.Agents.Analysis;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Pruning;
using Prunerl.Agents.Replay;
using Prunerl.Core;

namespace Prunerl.Agents.Training;

/// <summary>Pruning as a run asks for it: the gradual schedule's steps may be fractions of the run's gradient updates.</summary>
public sealed record PruningRequest(GradualSpec Schedule, Allocation Allocation, Scope Scope);

/// <summary>A baseline the paper compares against, applied to the online network every
/// <paramref name="Period"/> gradient updates; combinable with a dense network only.</summary>
public abstract record BaselineRequest(long Period);

/// <summary>Reset (Nikishin et al. 2022): fresh values for the last <paramref name="Layers"/> layers (1 or 2).</summary>
public sealed record ResetRequest(long Period, int Layers = 1) : BaselineRequest(Period);

/// <summary>ReDo (Sokar et al. 2023): recycle the tau-dormant neurons found on the update's batch.</summary>
public sealed record RedoRequest(long Period, double Tau = 0.025) : BaselineRequest(Period);

/// <summary>One training run: agent, environment, network (with its width), pruning or not, seed and length.</summary>
/// <param name="Environment">The environment's registry id.</param>
/// <param name="Agent">The agent's hyperparameters.</param>
/// <param name="Network">The network's shape and width (its head follows the agent).</param>
/// <param name="TotalSteps">Agent steps (environment steps over all copies).</param>
/// <param name="Seed">Seed of everything random in the run.</param>
/// <param name="Pruning">Gradual magnitude pruning, or null for a dense network.</param>
/// <param name="Copies">Environment copies stepped together.</param>
/// <param name="EvaluateEvery">Agent steps between evaluations (0: none).</param>
/// <param name="EvaluationEpisodes">Episodes per evaluation.</param>
/// <param name="Options">Environment options (MinAtar's stickiness, ramping, action set).</param>
/// <param name="StopAtReturn">Ends the run early once an evaluation's mean return reaches this (a solved task); null to run to the end.</param>
/// <param name="AnalyseEvery">Agent steps between measurements of the network on a held-out batch (0: none).</param>
/// <param name="Baseline">Reset or ReDo, for a dense network; null for none.</param>
public sealed record TrainingSpec(
    string Environment,
    AgentConfig Agent,
    NetworkSpec Network,
    long TotalSteps,
    long Seed,
    PruningRequest? Pruning = null,
    int Copies = 1,
    long EvaluateEvery = 0,
    int EvaluationEpisodes = 10,
    EnvironmentOptions? Options = null,
    double? StopAtReturn = null,
    long AnalyseEvery = 0,
    BaselineRequest? Baseline = null)
{
    /// <summary>Gradient updates the run will take: the pruning schedule's length.</summary>
    public long TotalUpdates => AgentConfigModule.gradientUpdates(Agent, TotalSteps);
}

/// <summary>A finished episode while training.</summary>
public readonly record struct EpisodeRecord(long Step, float Return, int Length);

/// <summary>An evaluation: the mean return of greedy (epsilon_eval) episodes at an agent step, and the
/// sparsity of the pruned parameters measured on the tensors then (0 for a dense network).</summary>
public readonly record struct EvaluationRecord(long Step, double MeanReturn, double Sparsity);

/// <summary>A baseline applied: at which gradient update, and how many neurons it renewed (Reset: the layers' units).</summary>
public readonly record struct RenewalRecord(long Update, int Neurons);

/// <summary>What a run produced, with each parameter's final size and non-zeros measured on the tensors.</summary>
public sealed record TrainingResult(
    IReadOnlyList<EpisodeRecord> Episodes,
    IReadOnlyList<EvaluationRecord> Evaluations,
    IReadOnlyList<AnalysisRecord> Analyses,
    IReadOnlyList<RenewalRecord> Renewals,
    long Updates,
    IReadOnlyList<ParameterSparsity> Parameters);

/// <summary>The training loop of the DQN family, top to bottom, as Dopamine runs it.</summary>
public static class DqnTraining
{
    /// <summary>Loss values are written as their mean over this many gradient updates.</summary>
    public const int LossWindow = 100;

    /// <summary>Agent steps between progress reports.</summary>
    public const int ProgressEvery = 1000;

    /// <summary>Episodes in a progress report's recent mean return.</summary>
    public const int RecentEpisodes = 20;

    /// <summary>
    /// Trains an agent as the spec says and returns its episodes, evaluations, analyses and renewals. The
    /// hooks receive evaluations, progress and every measurement as they happen. With a checkpoint
    /// policy, the run checkpoints everything it holds every so many agent steps, when cancelled and at
    /// the end, and resumes from the policy's directory when that holds a checkpoint: a resumed run ends
    /// exactly as the uninterrupted one would have (on CPU), its rewindable metrics log included. A
    /// checkpoint that is corrupt or from another configuration is a <see cref="CheckpointException"/>,
    /// thrown before anything is changed. Cancellation stops the run at the next step boundary, after
    /// checkpointing there, with an OperationCanceledException.
    /// </summary>
    public static TrainingResult Run(TrainingSpec spec, RunHooks? hooks = null)
    {
        hooks ??= new RunHooks();
        if (hooks.Checkpoints is { } policy && (policy.Every < 1 || string.IsNullOrWhiteSpace(policy.Directory)))
            throw new ArgumentException($"a checkpoint policy needs a directory and a period >= 1, got '{policy.Directory}' every {policy.Every}", nameof(hooks));
        using var session = new Session(spec, hooks);
        return session.Run();
    }

    /// <summary>One run's state: the agent, its environments and replay, its random streams and its records.</summary>
    internal sealed class Session : IDisposable
    {
        private readonly TrainingSpec spec;
        private readonly AgentConfig config;
        private readonly RunHooks hooks;
        private readonly IMetricsSink? metrics;
        private readonly VectorEnvironment environment;
        private readonly DqnAgent agent;
        private readonly Renewer? baseline;
        private readonly IReplayMemory replay;
        private readonly ReplayBatch batch;
        /// <summary>The held-out batch for analysis: drawn once, from its own stream, so measuring never changes the run.</summary>
        private readonly ReplayBatch heldOut;
        private bool heldOutDrawn;
        private EnvRandom acting, sampling;
        private readonly float[] observations;
        private readonly int[] actions;
        private readonly List<EpisodeRecord> episodes = [];
        private readonly List<EvaluationRecord> evaluations = [];
        private readonly List<AnalysisRecord> analyses = [];
        private readonly List<RenewalRecord> renewals = [];
        private double lossSum;
        /// <summary>Agent steps taken; the loop stops only at vector-step boundaries, where checkpoints are taken.</summary>
        private long step;
        /// <summary>Whether the run has ended (its length reached, or the target return): its last checkpoint says so.</summary>
        private bool finished;
        private long lastCheckpoint, lastProgress;

        public Session(TrainingSpec spec, RunHooks hooks)
        {
            this.spec = spec;
            config = spec.Agent;
            this.hooks = hooks;
            metrics = hooks.Metrics;
            environment = EnvironmentRegistry.CreateVector(spec.Environment, spec.Copies, spec.Options);
            var actionCount = environment.ActionSpace is DiscreteSpace discrete ? discrete.Count
                : throw new ArgumentException($"{spec.Environment}: the DQN family needs discrete actions, not {environment.ActionSpace}");
            if (spec.Baseline is not null && spec.Pruning is not null)
                throw new ArgumentException("a baseline (Reset, ReDo) combines with a dense network: set the sparsity to 0", nameof(spec));
            agent = new DqnAgent(config, spec.Network, environment.ObservationSpace.Shape, actionCount, Pruning(spec), spec.Seed);
            baseline = spec.Baseline is { } request ? new Renewer(request, (ulong)spec.Seed) : null;
            replay = MakeReplay(spec, environment);
            batch = new ReplayBatch(config.BatchSize, environment.ObservationSize);
            heldOut = new ReplayBatch(config.BatchSize, environment.ObservationSize);
            acting = new EnvRandom(EnvRandom.Derive((ulong)spec.Seed, 1));
            sampling = new EnvRandom(EnvRandom.Derive((ulong)spec.Seed, 2));
            observations = new float[environment.Observations.Length];
            actions = new int[spec.Copies];
        }

        public TrainingResult Run()
        {
            if (!Resume()) environment.Reset((ulong)spec.Seed);
            if (finished)
            {
                // A finished run's checkpoint: its result as it ended.
                ReportProgress();
                return Result();
            }
            while (step < spec.TotalSteps)
            {
                StopIfCancelled();
                ActAndRemember();
                // One vector step is one agent step per copy: the schedules below count agent steps.
                for (var copy = 0; copy < spec.Copies; copy++)
                {
                    step++;
                    if (environment.EpisodeEnded[copy]) RecordEpisode(copy);
                    if (step > config.MinReplay && step % config.UpdatePeriod == 0) LearnAt();
                    if (step % config.TargetUpdatePeriod == 0) agent.SyncTarget();
                    if (Due(spec.AnalyseEvery, step)) AnalyseAt();
                    if (Due(spec.EvaluateEvery, step) && EvaluateAt() >= spec.StopAtReturn) return Finish();
                }
                if (step >= spec.TotalSteps) break;
                if (step / ProgressEvery > lastProgress / ProgressEvery) ReportProgress();
                if (hooks.Checkpoints is { } policy && step / policy.Every > lastCheckpoint / policy.Every) Checkpoint();
            }
            return Finish();
        }

        /// <summary>Epsilon-greedy actions for every copy, one environment step, and the transitions into replay.</summary>
        private void ActAndRemember()
        {
            var epsilon = Exploration.epsilon(config.EpsilonDecaySteps, config.MinReplay, config.EpsilonTrain, step);
            environment.Observations.CopyTo(observations);
            agent.Act(observations, epsilon, ref acting, actions);
            environment.Step(actions);
            replay.Add(observations, actions, environment.Rewards, environment.Terminated, environment.Truncated, environment.FinalObservations);
        }

        private void RecordEpisode(int copy)
        {
            episodes.Add(new EpisodeRecord(step, environment.EpisodeReturns[copy], environment.EpisodeLengths[copy]));
            metrics?.Write(step, "train/episode_return", environment.EpisodeReturns[copy]);
            metrics?.Write(step, "train/episode_length", environment.EpisodeLengths[copy]);
        }

        /// <summary>The configured number of gradient updates, each followed by the baseline when it is due.</summary>
        private void LearnAt()
        {
            for (var k = 0; k < config.UpdatesPerStep; k++)
            {
                if (Learn(agent, replay, batch, ref sampling, config, step) is not { } loss) continue;
                lossSum += loss;
                if (agent.Updates % LossWindow == 0)
                {
                    metrics?.Write(step, "train/loss", lossSum / LossWindow);
                    lossSum = 0;
                }
                if (baseline?.Due(agent.Updates) == true)
                {
                    renewals.Add(baseline.Apply(agent, batch));
                    metrics?.Write(step, "baseline/renewed_neurons", renewals[^1].Neurons);
                }
            }
        }

        private void AnalyseAt()
        {
            if (!heldOutDrawn && replay.SampleableCount >= config.BatchSize)
            {
                var own = new EnvRandom(EnvRandom.Derive((ulong)spec.Seed, 5));
                replay.Sample(config.BatchSize, ref own, heldOut);
                heldOutDrawn = true;
            }
            if (!heldOutDrawn) return;
            analyses.Add(AnalysisRecord.Of(step, agent, heldOut));
            if (metrics is not null) WriteAnalysis(metrics, analyses[^1]);
        }

        /// <summary>Evaluates the agent greedily, records it, and returns the mean return.</summary>
        private double EvaluateAt()
        {
            var evaluation = new EvaluationRecord(step, Evaluate(agent, spec, step), MeasuredSparsity(agent));
            evaluations.Add(evaluation);
            hooks.Evaluations?.Report(evaluation);
            metrics?.Write(step, "eval/return", evaluation.MeanReturn);
            metrics?.Write(step, "eval/sparsity", evaluation.Sparsity);
            return evaluation.MeanReturn;
        }

        private void ReportProgress()
        {
            lastProgress = step;
            if (hooks.Progress is not { } progress) return;
            var recent = episodes.Count == 0 ? double.NaN : episodes.TakeLast(RecentEpisodes).Average(e => (double)e.Return);
            var sparsity = agent.Pruner is { } pruner && agent.Updates > 0 ? ScheduleModule.sparsityAt(pruner.Plan.Schedule, agent.Updates - 1) : 0;
            progress.Report(new TrainingProgress(step, spec.TotalSteps, episodes.Count, recent, sparsity, agent.Updates));
        }

        /// <summary>The run has ended: the last progress report, and a checkpoint that says so (resuming it gives this result).</summary>
        private TrainingResult Finish()
        {
            finished = true;
            ReportProgress();
            if (hooks.Checkpoints is not null) Checkpoint();
            return Result();
        }

        /// <summary>When cancelled: a checkpoint at this step boundary (if there is not one already), then the cancellation.</summary>
        private void StopIfCancelled()
        {
            if (!hooks.Cancellation.IsCancellationRequested) return;
            if (hooks.Checkpoints is not null && lastCheckpoint != step) Checkpoint();
            throw new OperationCanceledException($"the run was cancelled at step {step}", hooks.Cancellation);
        }

        private static bool Due(long period, long step) => period > 0 && step % period == 0;

        private TrainingResult Result() =>
            new(episodes, evaluations, analyses, renewals, agent.Updates, ParameterSparsity.Of(agent.Online, agent.Pruner));

        /// <summary>Writes everything the run holds as the latest checkpoint in the policy's directory.</summary>
        public void Checkpoint()
        {
            lastCheckpoint = step;
            RunCheckpoint.Save(hooks.Checkpoints!.Directory, Sections(), RunFingerprint.Of(spec), metrics as IRewindableMetrics);
        }

        /// <summary>Loads the checkpoint in the policy's directory, if there is one; whether it did.</summary>
        public bool Resume()
        {
            if (hooks.Checkpoints is not { } policy || CheckpointFile.Find(policy.Directory) is not { } path) return false;
            RunCheckpoint.Load(path, Sections(), RunFingerprint.Of(spec), metrics as IRewindableMetrics);
            lastCheckpoint = lastProgress = step;
            return true;
        }

        /// <summary>Everything the run holds, by section: the run's own counters and records, then each part.</summary>
        private List<(string Name, ICheckpointable State)> Sections()
        {
            var sections = new List<(string, ICheckpointable)>
            {
                ("run", new RunState(this)),
                ("environment", environment),
                ("agent", agent),
                ("replay", replay),
            };
            if (baseline is not null) sections.Add(("baseline", baseline));
            return sections;
        }

        public void Dispose()
        {
            baseline?.Dispose();
            agent.Dispose();
        }

        /// <summary>The session's own state: position, flags, random streams, held-out batch, loss window and records.</summary>
        private sealed class RunState(Session session) : ICheckpointable
        {
            public void Save(StateWriter writer)
            {
                writer.Write(session.step);
                writer.Write(session.finished);
                writer.Write(session.acting);
                writer.Write(session.sampling);
                writer.Write(session.heldOutDrawn);
                session.heldOut.Save(writer);
                writer.Write(session.lossSum);
                RunRecords.Save(writer, session.episodes, session.evaluations, session.analyses, session.renewals);
            }

            public void Load(StateReader reader)
            {
                session.step = reader.ReadInt64();
                session.finished = reader.ReadBoolean();
                session.acting = reader.ReadRandom();
                session.sampling = reader.ReadRandom();
                session.heldOutDrawn = reader.ReadBoolean();
                session.heldOut.Load(reader);
                session.lossSum = reader.ReadDouble();
                RunRecords.Load(reader, session.episodes, session.evaluations, session.analyses, session.renewals);
            }
        }
    }

    private static void WriteAnalysis(IMetricsSink metrics, AnalysisRecord a)
    {
        metrics.Write(a.Step, "analysis/dormant_fraction", a.DormantFraction);
        foreach (var layer in a.Dormancy) metrics.Write(a.Step, $"analysis/dormant/{layer.Layer}", layer.Fraction);
        metrics.Write(a.Step, "analysis/srank", a.EffectiveRank);
        metrics.Write(a.Step, "analysis/parameter_norm", a.ParameterNorm);
        metrics.Write(a.Step, "analysis/q_mean", a.QMean);
        metrics.Write(a.Step, "analysis/q_variance", a.QVariance);
        metrics.Write(a.Step, "analysis/gradient_interference", a.GradientInterference);
        metrics.Write(a.Step, "analysis/nonzero_parameters", a.NonZeroParameters);
    }

    /// <summary>One gradient update on a replayed batch, refreshing priorities when replay is prioritized;
    /// its loss, or null when replay cannot give a batch yet.</summary>
    private static float? Learn(DqnAgent agent, IReplayMemory replay, ReplayBatch batch, ref EnvRandom sampling, AgentConfig config, long step)
    {
        if (replay.SampleableCount < config.BatchSize) return null;
        if (replay is PrioritizedReplayBuffer prioritized && config.Replay is ReplayScheme.PrioritizedReplay p)
            prioritized.Beta = Exploration.beta(p.betaStart, p.betaSteps, step);
        replay.Sample(config.BatchSize, ref sampling, batch);
        var loss = agent.Update(batch);
        if (replay is PrioritizedReplayBuffer memory)
        {
            // Dopamine: priority sqrt(loss + 1e-10); with alpha 0.5 on loss + 1e-10 the sampling is the same.
            Span<float> priorities = stackalloc float[batch.BatchSize];
            for (var i = 0; i < priorities.Length; i++) priorities[i] = agent.SampleLosses[i] + 1e-10f;
            memory.UpdatePriorities(batch.Indices, priorities);
        }
        return loss;
    }

    /// <summary>Applies a baseline to the agent's online network and forgets the optimizer state it made stale.</summary>
    private sealed class Renewer(BaselineRequest request, ulong seed) : IDisposable, ICheckpointable
    {
        private readonly Baselines.LastLayerReset? reset =
            request is ResetRequest r ? new Baselines.LastLayerReset(r.Layers, EnvRandom.Derive(seed, 6)) : null;
        private readonly Baselines.DormantNeuronRecycler? recycler =
            request is RedoRequest redo ? new Baselines.DormantNeuronRecycler(redo.Tau, EnvRandom.Derive(seed, 6)) : null;

        public bool Due(long updates) => request.Period > 0 && updates % request.Period == 0;

        public RenewalRecord Apply(DqnAgent agent, ReplayBatch batch)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var renewal = reset is not null ? reset.Reset(agent.Online) : recycler!.Recycle(agent.Online, agent.Observations(batch));
            agent.ForgetOptimizerState(renewal);
            return new RenewalRecord(agent.Updates, renewal.Layers.Count > 0 ? renewal.Layers.Sum(l => l.Neurons) : NeuronsOf(renewal));
        }

        /// <summary>For a reset: the units of the renewed layers (their biases' lengths).</summary>
        private static int NeuronsOf(Baselines.Renewal renewal) =>
            (int)renewal.Touched.Where(t => t.Parameter.dim() == 1).Sum(t => t.Parameter.shape[0]);

        public void Save(StateWriter writer) => ((ICheckpointable?)reset ?? recycler!).Save(writer);

        public void Load(StateReader reader) => ((ICheckpointable?)reset ?? recycler!).Load(reader);

        public void Dispose()
        {
            reset?.Dispose();
            recycler?.Dispose();
        }
    }

    /// <summary>Mean return of greedy episodes on a fresh environment seeded from the run and the step.</summary>
    private static double Evaluate(DqnAgent agent, TrainingSpec spec, long step)
    {
        var environment = EnvironmentRegistry.Create(spec.Environment, spec.Options);
        var random = new EnvRandom(EnvRandom.Derive((ulong)spec.Seed ^ (ulong)step, 3));
        var action = new int[1];
        var total = 0.0;
        environment.Reset(EnvRandom.Derive((ulong)spec.Seed ^ (ulong)step, 4));
        for (var episode = 0; episode < spec.EvaluationEpisodes; episode++)
        {
            if (episode > 0) environment.Reset();
            StepResult result;
            do
            {
                agent.Act(environment.Observation, spec.Agent.EpsilonEval, ref random, action);
                result = environment.Step(action[0]);
                total += result.Reward;
            } while (!result.Done);
        }
        return total / spec.EvaluationEpisodes;
    }

    /// <summary>The fraction of zeros among the pruned parameters, counted on the tensors.</summary>
    private static double MeasuredSparsity(DqnAgent agent)
    {
        if (agent.Pruner is not { } pruner) return 0;
        var pruned = pruner.Measure().Where(p => p.Pruned).ToList();
        var size = pruned.Sum(p => p.Size);
        return size == 0 ? 0 : 1.0 - (double)pruned.Sum(p => p.NonZero) / size;
    }

    private static PruningSetup? Pruning(TrainingSpec spec)
    {
        if (spec.Pruning is not { } request) return null;
        var schedule = ScheduleModule.gradual(Math.Max(1, spec.TotalUpdates), request.Schedule);
        return schedule.IsOk ? new PruningSetup(schedule.ResultValue, request.Allocation, request.Scope)
            : throw new ArgumentException(schedule.ErrorValue, nameof(spec));
    }

    internal static IReplayMemory MakeReplay(TrainingSpec spec, VectorEnvironment environment)
    {
        var config = spec.Agent;
        var options = new ReplayOptions(config.ReplayCapacity, spec.Copies, environment.ObservationSize, config.NStep, config.Gamma,
            spec.Environment.StartsWith("minatar/", StringComparison.Ordinal) ? ObservationStorage.Binary : ObservationStorage.Float32);
        return config.Replay is ReplayScheme.PrioritizedReplay p
            ? new PrioritizedReplayBuffer(options, p.alpha, p.betaStart)
            : new ReplayBuffer(options);
    }
}
