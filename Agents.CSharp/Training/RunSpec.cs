using Prunerl.Agents.Envs;
using Prunerl.Agents.Networks;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>
/// One training run, whatever its agent family: where, how long, its network and pruning, how it is evaluated
/// and stopped; <paramref name="Family"/> is the family's own part. <see cref="TrainingRun.For"/> makes one from a
/// run's config; <see cref="TrainingRun.Run(RunSpec, RunHooks?)"/> trains it.
/// </summary>
/// <param name="Environment">The environment's registry id.</param>
/// <param name="Family">The agent family and its settings: <see cref="DqnFamily"/>, <see cref="SacFamily"/> or <see cref="OfflineFamily"/>.</param>
/// <param name="Network">The network's shape and width (a value network's head follows the agent; SAC's actor and critics are MLPs of it).</param>
/// <param name="TotalSteps">Agent steps (environment steps over all copies); an offline run's are gradient updates.</param>
/// <param name="Seed">Seed of everything random in the run.</param>
/// <param name="Pruning">Gradual magnitude pruning of every network the run trains, or null for dense networks.</param>
/// <param name="Copies">Environment copies stepped together (1 for an offline run).</param>
/// <param name="EvaluateEvery">Agent steps between evaluations (0: none).</param>
/// <param name="EvaluationEpisodes">Episodes per evaluation.</param>
/// <param name="Options">Environment options (MinAtar's stickiness, ramping, action set).</param>
/// <param name="StopAtReturn">Ends the run early once an evaluation's mean return reaches this (a solved task); null to run to the end.</param>
public sealed record RunSpec(
    string Environment,
    FamilySpec Family,
    NetworkSpec Network,
    long TotalSteps,
    long Seed,
    PruningRequest? Pruning = null,
    int Copies = 1,
    long EvaluateEvery = 0,
    int EvaluationEpisodes = 10,
    EnvironmentOptions? Options = null,
    double? StopAtReturn = null)
{
    /// <summary>Gradient updates the run will take: the pruning schedule's length.</summary>
    public long TotalUpdates => Family.GradientUpdates(TotalSteps);

    /// <summary>
    /// The run's configuration as its checkpoints record it, so that resuming under another is refused with the
    /// fields that differ: the config's fields that decide the run's tensors and stream
    /// (<see cref="RunFingerprint.Of"/>), set by <see cref="TrainingRun.For"/>. Empty for a spec built by hand,
    /// whose checkpoints check their sections only.
    /// </summary>
    public IReadOnlyList<(string Field, string Value)> Configuration { get; init; } = [];
}

/// <summary>An agent family's part of a run: which agent learns, and its own settings.</summary>
public abstract record FamilySpec
{
    private protected FamilySpec() { }

    /// <summary>Gradient updates a run of <paramref name="steps"/> agent steps takes: the pruning schedule's length.</summary>
    public abstract long GradientUpdates(long steps);
}

/// <summary>The DQN family online (DQN, Rainbow, DER, DrQ): its hyperparameters, its analyses and a baseline.</summary>
/// <param name="Agent">The agent's hyperparameters.</param>
/// <param name="AnalyseEvery">Agent steps between measurements of the network on states drawn afresh from replay (0: none).</param>
/// <param name="Baseline">Reset, ReDo (dense networks), weight decay or L2; null for none.</param>
/// <param name="SrankStates">Replay states srank is measured on (2048: coherence_compute.py's, google-research
/// generalization_representations_rl_aistats22).</param>
/// <param name="DormantStates">Replay states dormant neurons and Q statistics are measured on (256: dopamine labs/redo's batch_size_statistics).</param>
public sealed record DqnFamily(
    AgentConfig Agent,
    long AnalyseEvery = 0,
    BaselineRequest? Baseline = null,
    int SrankStates = 2048,
    int DormantStates = 256) : FamilySpec
{
    /// <inheritdoc/>
    public override long GradientUpdates(long steps) => AgentConfigModule.gradientUpdates(Agent, steps);
}

/// <summary>Soft actor-critic on continuous actions: its hyperparameters (the run's network is an MLP spec for the actor and both critics).</summary>
/// <param name="Agent">SAC's hyperparameters.</param>
public sealed record SacFamily(SacConfig Agent) : FamilySpec
{
    /// <summary>Update steps are the steps s with MinReplay &lt; s &lt;= steps and s mod UpdatePeriod = 0 (as
    /// AgentConfig.gradientUpdates counts them), each taking UpdatesPerStep updates.</summary>
    public override long GradientUpdates(long steps) => steps <= Agent.MinReplay ? 0
        : (steps / Agent.UpdatePeriod - Agent.MinReplay / Agent.UpdatePeriod) * Agent.UpdatesPerStep;
}

/// <summary>
/// The DQN family offline: an agent trained only on a recorded dataset with CQL's regulariser (CQL for expected
/// values, CQL+C51 with a distributional agent), evaluated in the environment. Everything counted in steps counts
/// gradient updates (<see cref="AgentConfigModule.offlineClock"/>): the run's TotalSteps are its updates.
/// </summary>
/// <param name="Dataset">The dataset file (<see cref="Training.Dataset"/>), recorded on the run's environment (checked).</param>
/// <param name="ConservativeWeight">CQL's alpha (<see cref="Agents.ConservativeQ"/>); 0 is plain offline DQN / C51.
/// The published settings are <see cref="DqnAlpha"/> for CQL and <see cref="C51Alpha"/> for CQL+C51 (sources: <see cref="Prunerl.Experiments.ConservativeWeight"/>).</param>
/// <param name="Learner">The DQN family's part; its replay capacity, exploration and warm-up do not apply.</param>
public sealed record OfflineFamily(string Dataset, double ConservativeWeight, DqnFamily Learner) : FamilySpec
{
    /// <summary>CQL's alpha for a DQN: 1.0, the CQL reference code's Atari setting on 10% of the DQN Replay Dataset (4.0 on 1%; <see cref="Prunerl.Experiments.ConservativeWeight.dqn"/>).</summary>
    public static double DqnAlpha => Prunerl.Experiments.ConservativeWeight.dqn;

    /// <summary>CQL's alpha for C51: 0.1, Dopamine's offline C51 agents' CQL coefficient (<see cref="Prunerl.Experiments.ConservativeWeight.c51"/>).</summary>
    public static double C51Alpha => Prunerl.Experiments.ConservativeWeight.c51;

    /// <summary>The learner on the offline clock: a step is a gradient update.</summary>
    internal DqnFamily Clocked => Learner with { Agent = AgentConfigModule.offlineClock(Learner.Agent) };

    /// <inheritdoc/>
    public override long GradientUpdates(long steps) => Clocked.GradientUpdates(steps);
}
