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

/// <summary>SAC's training loop on the shared run loop (<see cref="TrainingSession"/>): uniformly random
/// actions for MinReplay steps, then the actor's samples; after MinReplay, UpdatesPerStep updates every
/// UpdatePeriod agent steps (the replay ratio), each on a uniformly replayed batch of 1-step transitions.</summary>
public static class SacTraining
{
    /// <summary>Loss values are written as their mean over this many gradient updates.</summary>
    public const int LossWindow = 100;

    /// <summary>
    /// Trains SAC as the spec says; hooks, checkpoints, resume and cancellation as <see cref="DqnTraining.Run"/>'s.
    /// The result's analyses and renewals are empty; its parameters are the actor's then the critics'.
    /// </summary>
    internal static TrainingResult Run(RunSpec spec, SacFamily family, RunHooks hooks)
    {
        if (hooks.Dataset is not null)
            throw new ArgumentException("datasets hold discrete actions for the DQN family: a SAC run records none", nameof(hooks));
        using var session = new TrainingSession(spec, hooks, (environment, metrics) => new Learner(spec, family.Agent, environment, metrics, hooks.Device));
        return session.Run();
    }

    /// <summary>SAC's part of a run: the agent, its replay of continuous actions, its random streams and loss windows.</summary>
    private sealed class Learner : ILearner
    {
        private static readonly string[] LossNames = ["train/critic_loss", "train/actor_loss", "train/alpha_loss", "train/alpha", "train/entropy"];

        private readonly RunSpec spec;
        private readonly SacConfig config;
        private readonly IMetricsSink? metrics;
        private readonly VectorEnvironment environment;
        private readonly SacAgent agent;
        private readonly ReplayBuffer replay;
        private readonly ReplayBatch batch;
        private EnvRandom acting, sampling;
        private readonly float[] observations, policyActions, environmentActions, evaluationPolicy, evaluationAction;
        private readonly double[] lossSums = new double[LossNames.Length];

        public Learner(RunSpec spec, SacConfig config, VectorEnvironment environment, IMetricsSink? metrics, TorchSharp.torch.Device? device)
        {
            this.spec = spec;
            this.config = config;
            this.metrics = metrics;
            this.environment = environment;
            var box = environment.ActionSpace as BoxSpace
                ?? throw new ArgumentException($"{spec.Environment}: SAC needs continuous actions, not {environment.ActionSpace}");
            agent = new SacAgent(config, spec.Network, environment.ObservationSize, box, RunPruning.Setup(spec.Pruning, spec.TotalUpdates, spec.Seed), spec.Seed, device);
            replay = new ReplayBuffer(new ReplayOptions(config.ReplayCapacity, spec.Copies, environment.ObservationSize, 1, config.Gamma, actionWidth: box.Size));
            batch = new ReplayBatch(config.BatchSize, environment.ObservationSize, box.Size);
            acting = SeedStreams.Random(spec.Seed, SeedStreams.Acting);
            sampling = SeedStreams.Random(spec.Seed, SeedStreams.Sampling);
            observations = new float[environment.Observations.Length];
            policyActions = new float[spec.Copies * box.Size];
            environmentActions = new float[spec.Copies * box.Size];
            evaluationPolicy = new float[box.Size];
            evaluationAction = new float[box.Size];
            RunState = new State(this);
        }

        public long Updates => agent.Updates;

        public double ScheduledSparsity =>
            agent.ActorOptimizer.Policy is { } policy && agent.Updates > 0 ? policy.ScheduledSparsity(agent.Updates - 1) : 0;

        public List<AnalysisRecord> Analyses { get; } = [];

        public List<RenewalRecord> Renewals { get; } = [];

        public ICheckpointable RunState { get; }

        /// <summary>Uniform actions in the box during the warm-up, the actor's samples after; one environment step; the transitions into replay.</summary>
        public void ActAndRemember(long step)
        {
            environment.Observations.CopyTo(observations);
            if (step < config.MinReplay)
                for (var i = 0; i < policyActions.Length; i++) policyActions[i] = (float)acting.Uniform(-1, 1);
            else agent.Act(observations, deterministic: false, policyActions);
            agent.ToEnvironment(policyActions, environmentActions);
            environment.Step(environmentActions);
            replay.Add(observations, policyActions, environment.Rewards, environment.Terminated, environment.Truncated, environment.FinalObservations);
        }

        /// <summary>Nothing: a SAC run records no dataset.</summary>
        public void Finish() { }

        /// <summary>UpdatesPerStep updates every UpdatePeriod agent steps after the warm-up.</summary>
        public void AfterStep(long step)
        {
            if (step <= config.MinReplay || step % config.UpdatePeriod != 0) return;
            for (var k = 0; k < config.UpdatesPerStep; k++)
            {
                if (replay.SampleableCount < config.BatchSize) return;
                replay.Sample(config.BatchSize, ref sampling, batch);
                var losses = agent.Update(batch);
                lossSums[0] += losses.Critic;
                lossSums[1] += losses.Actor;
                lossSums[2] += losses.Temperature;
                lossSums[3] += losses.Alpha;
                lossSums[4] += losses.Entropy;
                if (agent.Updates % LossWindow != 0) continue;
                for (var i = 0; i < lossSums.Length; i++)
                {
                    metrics?.Write(step, LossNames[i], lossSums[i] / LossWindow);
                    lossSums[i] = 0;
                }
            }
        }

        /// <summary>The deterministic action tanh(mean), scaled to the box.</summary>
        public StepResult EvaluationStep(Envs.Environment environment, ref EnvRandom random)
        {
            agent.Act(environment.Observation, deterministic: true, evaluationPolicy);
            agent.ToEnvironment(evaluationPolicy, evaluationAction);
            return environment.Step(evaluationAction);
        }

        public double MeasuredSparsity() => RunPruning.MeasuredSparsity(agent.ActorOptimizer.Policy, agent.CriticOptimizer.Policy);

        public IReadOnlyList<ParameterSparsity> Parameters() => agent.Measure();

        public TorchSharp.torch.nn.Module Policy => agent.Actor;

        public IReadOnlyList<(string Name, PrunedOptimizer Optimizer)> Optimizers => [("actor", agent.ActorOptimizer), ("critics", agent.CriticOptimizer)];

        public IEnumerable<(string Name, ICheckpointable State)> Sections() => [("agent", agent), ("replay", replay)];

        public void Dispose() => agent.Dispose();

        /// <summary>SAC's part of the run's section: the acting and sampling streams and the loss windows.</summary>
        private sealed class State(Learner learner) : ICheckpointable
        {
            public void Save(StateWriter writer)
            {
                writer.Write(learner.acting);
                writer.Write(learner.sampling);
                writer.Write<double>(learner.lossSums);
            }

            public void Load(StateReader reader)
            {
                learner.acting = reader.ReadRandom();
                learner.sampling = reader.ReadRandom();
                reader.ReadInto<double>(learner.lossSums);
            }
        }
    }
}
