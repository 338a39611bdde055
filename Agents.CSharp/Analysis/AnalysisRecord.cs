using Prunerl.Agents.Agents;
using Prunerl.Agents.Replay;
using static TorchSharp.torch;

namespace Prunerl.Agents.Analysis;

/// <summary>
/// The paper's measurements of the online network at an agent step, on states drawn afresh from the replay
/// memory: tau-dormant neurons per layer and overall, srank of the penultimate features, parameter norm, mean
/// and variance of the online Q-values, the variance of the target network's Q-values (equal to the online one
/// right after a target copy), the variance of the TD targets R + d Q_target(s', a*) and the Q norm (mean over
/// states of |Q(s, .)|_2), gradient interference of the per-sample losses (the signed mean cosine and the mean
/// absolute cosine, so that positive and negative interference do not cancel), and the non-zero parameter count.
/// </summary>
public sealed record AnalysisRecord(
    long Step,
    IReadOnlyList<LayerDormancy> Dormancy,
    double DormantFraction,
    int EffectiveRank,
    double ParameterNorm,
    double QMean,
    double QVariance,
    double GradientInterference,
    long NonZeroParameters,
    double TargetQVariance = 0,
    double QNorm = 0,
    double GradientInterferenceAbs = 0,
    double TargetVariance = 0)
{
    /// <summary>The matrix of cosines between the batch's per-sample gradients (the paper's Figure 14), for the
    /// analyses measured in this process; null for those read back from a checkpoint.</summary>
    public double[][]? Cosines { get; init; }

    /// <summary>The paper's tau for dormant neurons in value-based agents (ReDo uses 0.025 for DQN; 0.1 is also common).</summary>
    public const double DefaultTau = 0.025;

    /// <summary>
    /// Measures the agent's online network: dormant neurons and Q statistics on the first <paramref name="dormantStates"/>
    /// of <paramref name="states"/>, srank on the first <paramref name="srankStates"/>, gradient interference on the
    /// transitions of <paramref name="batch"/> (a training-sized batch).
    /// </summary>
    public static AnalysisRecord Of(long step, DqnAgent agent, ReplayBatch states, ReplayBatch batch, int srankStates, int dormantStates, double tau = DefaultTau)
    {
        using var scope = NewDisposeScope();
        var network = agent.Online;
        var all = agent.Observations(states);
        var dormantBatch = all.narrow(0, 0, Math.Min(dormantStates, states.BatchSize));
        var srankBatch = all.narrow(0, 0, Math.Min(srankStates, states.BatchSize));
        var dormancy = NetworkAnalysis.Dormancy(network, dormantBatch, tau);
        var (mean, variance) = NetworkAnalysis.QStatistics(network, dormantBatch);
        var (_, targetVariance) = NetworkAnalysis.QStatistics(agent.Target, dormantBatch);
        var tdTargetVariance = NetworkAnalysis.Variance(agent.ExpectedTargets(states).narrow(0, 0, Math.Min(dormantStates, states.BatchSize)));
        var parameters = network.parameters().Select(p => (Tensor)p).ToList();
        var cosines = NetworkAnalysis.GradientCosines(parameters, agent.Loss(batch).PerSample);
        using var _ = no_grad();
        var nonZero = parameters.Sum(p => p.count_nonzero().item<long>());
        return new AnalysisRecord(
            step, dormancy,
            (double)dormancy.Sum(l => l.Dormant) / dormancy.Sum(l => l.Neurons),
            NetworkAnalysis.EffectiveRank(network, srankBatch, Prunerl.Experiments.Metrics.EffectiveRank.paperDelta),
            NetworkAnalysis.ParameterNorm(network), mean, variance,
            Prunerl.Experiments.Metrics.GradientInterference.meanPairwise(cosines), nonZero,
            targetVariance, NetworkAnalysis.QNorm(network, dormantBatch),
            Prunerl.Experiments.Metrics.GradientInterference.meanAbsolutePairwise(cosines), tdTargetVariance) { Cosines = cosines };
    }
}
