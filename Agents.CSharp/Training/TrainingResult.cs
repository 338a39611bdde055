using Prunerl.Agents.Analysis;
using Prunerl.Agents.Pruning;

namespace Prunerl.Agents.Training;

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
