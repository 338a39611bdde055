using Prunerl.Agents.Networks;
using Prunerl.Agents.Envs;
using Prunerl.Core;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

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
/// <param name="AnalyseEvery">Agent steps between measurements of the network on states drawn afresh from replay (0: none).</param>
/// <param name="Baseline">Reset or ReDo, for a dense network; null for none.</param>
/// <param name="SrankStates">Replay states srank is measured on (2048: coherence_compute.py's, google-research
/// generalization_representations_rl_aistats22).</param>
/// <param name="DormantStates">Replay states dormant neurons and Q statistics are measured on (256: dopamine labs/redo's batch_size_statistics).</param>
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
    BaselineRequest? Baseline = null,
    int SrankStates = 2048,
    int DormantStates = 256)
{
    /// <summary>Gradient updates the run will take: the pruning schedule's length.</summary>
    public long TotalUpdates => AgentConfigModule.gradientUpdates(Agent, TotalSteps);
}
