using Prunerl.Agents.Agents;
using Prunerl.Agents.Analysis;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Pruning;
using Prunerl.Agents.Replay;
using Prunerl.Core;
using Prunerl.Agents.Runtime;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>The training loop of the DQN family, as Dopamine runs it, on the shared run loop (<see cref="TrainingSession"/>).</summary>
public static class DqnTraining
{
    /// <summary>Loss values are written as their mean over this many gradient updates.</summary>
    public const int LossWindow = 100;

    /// <summary>Agent steps between progress reports.</summary>
    public const int ProgressEvery = TrainingSession.ProgressEvery;

    /// <summary>Episodes in a progress report's recent mean return.</summary>
    public const int RecentEpisodes = TrainingSession.RecentEpisodes;

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
    internal static TrainingResult Run(RunSpec spec, DqnFamily family, RunHooks hooks)
    {
        using var session = Session(spec, family, hooks);
        return session.Run();
    }

    /// <summary>A run of the spec on the shared loop, not started. <paramref name="offline"/>, for an offline run: the
    /// dataset its replay memory holds instead of acting (<paramref name="family"/> is then on the offline clock, one
    /// step per update), and CQL's weight.</summary>
    internal static TrainingSession Session(RunSpec spec, DqnFamily family, RunHooks hooks, OfflineSource? offline = null) =>
        new(spec, hooks, (environment, metrics) => new Learner(spec, family, environment, metrics, hooks, offline));

    /// <summary>The DQN family's part of a run: the agent, its replay, its random streams, analysis and baseline.</summary>
    private sealed class Learner : ILearner
    {
        private readonly RunSpec spec;
        private readonly DqnFamily family;
        private readonly AgentConfig config;
        private readonly IMetricsSink? metrics;
        private readonly VectorEnvironment environment;
        private readonly DqnAgent agent;
        private readonly Renewer? baseline;
        private readonly IReplayMemory replay;
        /// <summary>An offline run's dataset and CQL weight; null for a run that acts.</summary>
        private readonly OfflineSource? offline;
        /// <summary>The run's experience, recorded when the hooks name a dataset file (<see cref="datasetPath"/>).</summary>
        private readonly Dataset? recording;
        private readonly string? datasetPath;
        private readonly ReplayBatch batch;
        /// <summary>The analysis' states and training-sized batch, drawn afresh from the replay memory at every
        /// analysis with the analysis' own stream, so measuring never changes the run.</summary>
        private readonly ReplayBatch analysisStates, analysisBatch;
        private EnvRandom acting, sampling, analysing;
        private readonly float[] observations;
        private readonly int[] actions;
        private readonly int[] evaluationAction = new int[1];
        private double lossSum;

        public Learner(RunSpec spec, DqnFamily family, VectorEnvironment environment, IMetricsSink? metrics, RunHooks hooks, OfflineSource? offline)
        {
            var datasetPath = hooks.Dataset;
            this.spec = spec;
            this.family = family;
            config = family.Agent;
            this.metrics = metrics;
            this.environment = environment;
            var actionCount = environment.ActionSpace is DiscreteSpace discrete ? discrete.Count
                : throw new ArgumentException($"{spec.Environment}: the DQN family needs discrete actions, not {environment.ActionSpace}");
            if (family.Baseline is { Renews: true } && spec.Pruning is not null)
                throw new ArgumentException("a baseline (Reset, ReDo) combines with a dense network: set the sparsity to 0", nameof(spec));
            if (offline is not null && datasetPath is not null)
                throw new ArgumentException("an offline run acts in no environment: it has no experience to record as a dataset", nameof(datasetPath));
            offline?.Data.CheckRecordedOn(spec.Environment, environment.ObservationSpace.Shape, actionCount);
            this.offline = offline;
            this.datasetPath = datasetPath;
            agent = new DqnAgent(config, spec.Network, environment.ObservationSpace.Shape, actionCount, RunPruning.Setup(spec.Pruning, spec.TotalUpdates, spec.Seed), spec.Seed,
                offline?.Family.ConservativeWeight ?? 0, hooks.Device, RegularizationOf(family.Baseline)) { TorchOpsOnly = hooks.TorchOpsOnly };
            baseline = family.Baseline is { Renews: true } ? new Renewer(family.Baseline, spec.Seed) : null;
            replay = offline is null ? MakeReplay(spec, config, environment) : offline.Replay(config);
            recording = datasetPath is null ? null
                : new Dataset(spec.Environment, environment.ObservationSpace.Shape, actionCount, spec.Copies, Storage(spec));
            batch = new ReplayBatch(config.BatchSize, environment.ObservationSize);
            analysisStates = new ReplayBatch(Math.Max(family.SrankStates, family.DormantStates), environment.ObservationSize);
            analysisBatch = new ReplayBatch(config.BatchSize, environment.ObservationSize);
            analysing = SeedStreams.Random(spec.Seed, SeedStreams.Analysis);
            acting = SeedStreams.Random(spec.Seed, SeedStreams.Acting);
            sampling = SeedStreams.Random(spec.Seed, SeedStreams.Sampling);
            observations = new float[environment.Observations.Length];
            actions = new int[spec.Copies];
            RunState = new State(this);
        }

        public long Updates => agent.Updates;

        public double ScheduledSparsity =>
            agent.Optimizer.Policy is { } policy && agent.Updates > 0 ? policy.ScheduledSparsity(agent.Updates - 1) : 0;

        public List<AnalysisRecord> Analyses { get; } = [];

        public List<RenewalRecord> Renewals { get; } = [];

        public ICheckpointable RunState { get; }

        /// <summary>Epsilon-greedy actions for every copy, one environment step, and the transitions into replay
        /// (and the recording); nothing for an offline run, which learns from its dataset only.</summary>
        public void ActAndRemember(long step)
        {
            if (offline is not null) return;
            var epsilon = Exploration.trainingEpsilon(config, step);
            environment.Observations.CopyTo(observations);
            agent.Act(observations, epsilon, ref acting, actions);
            environment.Step(actions);
            replay.Add(observations, actions, environment.Rewards, environment.Terminated, environment.Truncated, environment.FinalObservations);
            recording?.Add(observations, actions, environment.Rewards, environment.Terminated, environment.Truncated, environment.FinalObservations);
        }

        /// <summary>Writes the recording, when there is one, to the hooks' dataset file.</summary>
        public void Finish() => recording?.Write(datasetPath!);

        /// <summary>Learning when due, the target copy, and the analysis.</summary>
        public void AfterStep(long step)
        {
            if (step > config.MinReplay && step % config.UpdatePeriod == 0) LearnAt(step);
            if (step % config.TargetUpdatePeriod == 0) agent.SyncTarget();
            if (TrainingSession.Due(family.AnalyseEvery, step)) AnalyseAt(step);
        }

        /// <summary>An epsilon_eval-greedy action (noisy nets on their means).</summary>
        public StepResult EvaluationStep(Envs.Environment environment, ref EnvRandom random)
        {
            agent.Act(environment.Observation, config.EpsilonEval, ref random, evaluationAction, evaluation: true);
            return environment.Step(evaluationAction[0]);
        }

        /// <summary>The configured number of gradient updates, each followed by the baseline when it is due.</summary>
        private void LearnAt(long step)
        {
            for (var k = 0; k < config.UpdatesPerStep; k++)
            {
                if (Learn(agent, replay, batch, ref sampling, config, step) is not { } loss) continue;
                lossSum += loss;
                if (agent.Updates % LossWindow == 0)
                {
                    metrics?.Write(step, "train/loss", lossSum / LossWindow);
                    // The exploration rate beside the loss, as a detail (metrics.csv keeps its recorded rows); none offline, where nothing acts.
                    if (offline is null) metrics?.WriteDetail(step, RunFormat.TrainEpsilon, Exploration.trainingEpsilon(config, step));
                    lossSum = 0;
                }
                if (baseline?.Due(agent.Updates) == true)
                {
                    Renewals.Add(baseline.Apply(agent, batch));
                    metrics?.Write(step, "baseline/renewed_neurons", Renewals[^1].Neurons);
                }
            }
        }

        private void AnalyseAt(long step)
        {
            if (replay.SampleableCount < config.BatchSize) return;
            replay.Sample(analysisStates.BatchSize, ref analysing, analysisStates);
            replay.Sample(analysisBatch.BatchSize, ref analysing, analysisBatch);
            Analyses.Add(AnalysisRecord.Of(step, agent, analysisStates, analysisBatch, family.SrankStates, family.DormantStates));
            if (metrics is not null) WriteAnalysis(metrics, Analyses[^1]);
        }

        public double MeasuredSparsity() => RunPruning.MeasuredSparsity(agent.Optimizer.Policy);

        public IReadOnlyList<ParameterSparsity> Parameters() => ParameterSparsity.Of(agent.Online, agent.Optimizer.Policy);

        public TorchSharp.torch.nn.Module Policy => agent.Online;

        public IReadOnlyList<(string Name, PrunedOptimizer Optimizer)> Optimizers => [("online", agent.Optimizer)];

        public IEnumerable<(string Name, ICheckpointable State)> Sections()
        {
            yield return ("agent", agent);
            yield return ("replay", replay);
            if (baseline is not null) yield return ("baseline", baseline);
            if (recording is not null) yield return ("dataset", recording);
        }

        public void Dispose()
        {
            baseline?.Dispose();
            agent.Dispose();
        }

        /// <summary>The family's part of the run's section: random streams, held-out batch and loss window.</summary>
        private sealed class State(Learner learner) : ICheckpointable
        {
            public void Save(StateWriter writer)
            {
                writer.Write(learner.acting);
                writer.Write(learner.sampling);
                writer.Write(learner.analysing);
                writer.Write(learner.lossSum);
            }

            public void Load(StateReader reader)
            {
                learner.acting = reader.ReadRandom();
                learner.sampling = reader.ReadRandom();
                learner.analysing = reader.ReadRandom();
                learner.lossSum = reader.ReadDouble();
            }
        }
    }

    private static void WriteAnalysis(IMetricsSink metrics, AnalysisRecord a)
    {
        metrics.Write(a.Step, RunFormat.AnalysisDormantFraction, a.DormantFraction);
        foreach (var layer in a.Dormancy) metrics.Write(a.Step, RunFormat.AnalysisDormantLayerPrefix + layer.Layer, layer.Fraction);
        metrics.Write(a.Step, RunFormat.AnalysisSrank, a.EffectiveRank);
        metrics.Write(a.Step, RunFormat.AnalysisParameterNorm, a.ParameterNorm);
        metrics.Write(a.Step, RunFormat.AnalysisQMean, a.QMean);
        metrics.Write(a.Step, RunFormat.AnalysisQVariance, a.QVariance);
        metrics.Write(a.Step, RunFormat.AnalysisTargetQVariance, a.TargetQVariance);
        metrics.Write(a.Step, RunFormat.AnalysisTdTargetVariance, a.TargetVariance);
        metrics.Write(a.Step, RunFormat.AnalysisQNorm, a.QNorm);
        metrics.Write(a.Step, RunFormat.AnalysisGradientInterference, a.GradientInterference);
        metrics.Write(a.Step, RunFormat.AnalysisGradientInterferenceAbs, a.GradientInterferenceAbs);
        metrics.Write(a.Step, RunFormat.AnalysisNonzeroParameters, a.NonZeroParameters);
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
    private sealed class Renewer(BaselineRequest request, long seed) : IDisposable, ICheckpointable
    {
        private readonly Baselines.LastLayerReset? reset =
            request.Kind.IsReset ? new Baselines.LastLayerReset(request.ResetLayers, SeedStreams.Seed(seed, SeedStreams.Baseline)) : null;
        private readonly Baselines.DormantNeuronRecycler? recycler =
            request.Kind.IsRedo ? new Baselines.DormantNeuronRecycler(request.RedoTau, SeedStreams.Seed(seed, SeedStreams.Baseline)) : null;

        public bool Due(long updates) => request.Period > 0 && updates % request.Period == 0;

        public RenewalRecord Apply(DqnAgent agent, ReplayBatch batch)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var renewal = reset is not null ? reset.Reset(agent.Online) : recycler!.Recycle(agent.Online, agent.Observations(batch));
            agent.ForgetOptimizerState(renewal);
            return new RenewalRecord(agent.Updates, renewal.Layers.Sum(l => l.Neurons));
        }

        public void Save(StateWriter writer) => ((ICheckpointable?)reset ?? recycler!).Save(writer);

        public void Load(StateReader reader) => ((ICheckpointable?)reset ?? recycler!).Load(reader);

        public void Dispose()
        {
            reset?.Dispose();
            recycler?.Dispose();
        }
    }

    /// <summary>The regulariser a baseline request asks the agent for (weight decay, L2); null for the others.</summary>
    private static Regularization? RegularizationOf(BaselineRequest? request) =>
        request is null ? null
        : request.Kind.IsWd ? new Regularization(DecoupledDecay: request.Coefficient)
        : request.Kind.IsL2 ? new Regularization(L2: request.Coefficient)
        : null;

    /// <summary>The online run's replay memory of the agent's scheme, one slot per copy.</summary>
    internal static IReplayMemory MakeReplay(RunSpec spec, AgentConfig config, VectorEnvironment environment)
    {
        var options = new ReplayOptions(config.ReplayCapacity, spec.Copies, environment.ObservationSize, config.NStep, config.Gamma, Storage(spec));
        return MakeReplay(config, options);
    }

    /// <summary>A replay memory of the agent's scheme with these options.</summary>
    internal static IReplayMemory MakeReplay(AgentConfig config, ReplayOptions options) =>
        config.Replay is ReplayScheme.PrioritizedReplay p
            ? new PrioritizedReplayBuffer(options, p.alpha, p.betaStart, config.PrioritySampling.IsStratified)
            : new ReplayBuffer(options);

    private static ObservationStorage Storage(RunSpec spec) =>
        spec.Environment.StartsWith("minatar/", StringComparison.Ordinal) ? ObservationStorage.Binary : ObservationStorage.Float32;
}
