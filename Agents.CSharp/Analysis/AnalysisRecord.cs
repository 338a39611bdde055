using Prunerl.Agents.Agents;
using Prunerl.Agents.Replay;
using static TorchSharp.torch;

namespace Prunerl.Agents.Analysis;

/// <summary>
/// The paper's measurements of the online network at an agent step, on a fixed held-out batch: tau-dormant
/// neurons per layer and overall, srank of the penultimate features, parameter norm, mean and variance of
/// the Q-values, gradient interference of the per-sample losses, and the non-zero parameter count.
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
    long NonZeroParameters)
{
    /// <summary>The paper's tau for dormant neurons in value-based agents (ReDo uses 0.025 for DQN; 0.1 is also common).</summary>
    public const double DefaultTau = 0.025;

    /// <summary>Measures the agent's online network on the held-out batch.</summary>
    public static AnalysisRecord Of(long step, DqnAgent agent, ReplayBatch heldOut, double tau = DefaultTau)
    {
        using var scope = NewDisposeScope();
        var network = agent.Online;
        var observations = agent.Observations(heldOut);
        var dormancy = NetworkAnalysis.Dormancy(network, observations, tau);
        var (mean, variance) = NetworkAnalysis.QStatistics(network, observations);
        var parameters = network.parameters().Select(p => (Tensor)p).ToList();
        var interference = NetworkAnalysis.GradientInterference(parameters, agent.Loss(heldOut).PerSample);
        using var _ = no_grad();
        var nonZero = parameters.Sum(p => p.count_nonzero().item<long>());
        return new AnalysisRecord(
            step, dormancy,
            (double)dormancy.Sum(l => l.Dormant) / dormancy.Sum(l => l.Neurons),
            NetworkAnalysis.EffectiveRank(network, observations, Prunerl.Core.Metrics.EffectiveRank.paperDelta),
            NetworkAnalysis.ParameterNorm(network), mean, variance, interference, nonZero);
    }
}
