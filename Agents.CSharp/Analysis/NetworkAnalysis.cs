using Prunerl.Agents.Networks;
using Prunerl.Agents.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Analysis;

/// <summary>One hidden layer's tau-dormant neurons.</summary>
public sealed record LayerDormancy(string Layer, int Neurons, int Dormant)
{
    public double Fraction => Neurons == 0 ? 0 : (double)Dormant / Neurons;
}

/// <summary>
/// The paper's measurements of a network on a fixed held-out batch, computed on tensors. Each follows the
/// definition in Prunerl.Experiments.Metrics (the tests check them against it on small inputs).
/// </summary>
public static class NetworkAnalysis
{
    /// <summary>
    /// tau-dormant neurons per hidden layer (Sokar et al. 2023): a neuron's mean |activation| over the batch
    /// (and spatial positions, for a convolution channel) divided by its layer's mean plus 1e-9, at most tau.
    /// </summary>
    public static IReadOnlyList<LayerDormancy> Dormancy(QNetwork network, Tensor batch, double tau)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var activations = new List<(string Layer, Tensor Activation)>();
        network.Logits(batch, activations);
        return activations.Select(layer =>
        {
            var dormant = Dormant(layer.Activation, tau);
            return new LayerDormancy(layer.Layer, (int)dormant.shape[0], (int)dormant.sum().item<long>());
        }).ToList();
    }

    /// <summary>
    /// Which neurons of a layer's activations [batch, neurons] or [batch, channels, height, width] are
    /// tau-dormant: mean |activation| over the batch (and positions) over the layer's mean plus 1e-9, at most tau.
    /// </summary>
    public static Tensor Dormant(Tensor activation, double tau)
    {
        using var scalars = new OwnedScalars();
        var magnitude = activation.abs();
        var perNeuron = magnitude.dim() == 4 ? magnitude.mean([0, 2, 3]) : magnitude.mean([0]);
        return perNeuron.div(perNeuron.mean().add(scalars.Of(Prunerl.Experiments.Metrics.Dormant.epsilon), scalars.Of(1))).le(scalars.Of(tau));
    }

    /// <summary>srank_delta of the penultimate features of the batch (Kumar et al. 2021), from their singular values.</summary>
    public static int EffectiveRank(QNetwork network, Tensor batch, double delta)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var singular = linalg.svdvals(network.Features(batch).to_type(ScalarType.Float64));
        return Prunerl.Experiments.Metrics.EffectiveRank.ofSingularValues(delta, singular.ToHost().data<double>().ToArray());
    }

    /// <summary>The L2 norm of all parameters together.</summary>
    public static double ParameterNorm(nn.Module network)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var scalars = new OwnedScalars();
        var two = scalars.Of(2);
        return Math.Sqrt(network.parameters().Sum(p => p.to_type(ScalarType.Float64).pow(two).sum().item<double>()));
    }

    /// <summary>The mean and the variance (population) of all Q(s, a) over the batch's states and every action.</summary>
    public static (double Mean, double Variance) QStatistics(QNetwork network, Tensor batch)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var q = network.forward(batch).to_type(ScalarType.Float64);
        return (q.mean().item<double>(), Variance(q));
    }

    /// <summary>The population variance of all the values (in double precision), mean((x - mean x)^2).</summary>
    public static double Variance(Tensor values)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var scalars = new OwnedScalars();
        var x = values.to_type(ScalarType.Float64);
        // Written out: TorchSharp's var(unbiased: false) still divided by n - 1 here.
        return (x - x.mean()).pow(scalars.Of(2)).mean().item<double>();
    }

    /// <summary>The Q norm: the mean over the batch's states of the L2 norm of Q(s, .) over the actions.</summary>
    public static double QNorm(QNetwork network, Tensor batch)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return network.forward(batch).to_type(ScalarType.Float64).norm(1, false).mean().item<double>();
    }

    /// <summary>
    /// Per-sample gradients of the loss (one flat vector per sample, over the given parameters), taken with
    /// autograd.grad so that the parameters' own .grad are left untouched.
    /// </summary>
    public static float[][] PerSampleGradients(IReadOnlyList<Tensor> parameters, Tensor perSampleLosses)
    {
        using var scope = NewDisposeScope();
        var count = (int)perSampleLosses.shape[0];
        var gradients = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var grads = autograd.grad([perSampleLosses[i]], parameters.ToList(), retain_graph: true, allow_unused: true);
            gradients[i] = cat(grads.Select((g, k) => (g ?? zeros_like(parameters[k])).flatten()).ToList(), 0).ToHost().data<float>().ToArray();
        }
        return gradients;
    }

    /// <summary>The matrix of cosines between per-sample gradients (Lyle et al. 2022; the paper's Figure 14).</summary>
    public static double[][] GradientCosines(IReadOnlyList<Tensor> parameters, Tensor perSampleLosses) =>
        Prunerl.Experiments.Metrics.GradientInterference.cosines(PerSampleGradients(parameters, perSampleLosses)).ResultValue;

    /// <summary>Gradient interference (Lyle et al. 2022): the mean pairwise cosine between per-sample gradients.</summary>
    public static double GradientInterference(IReadOnlyList<Tensor> parameters, Tensor perSampleLosses) =>
        Prunerl.Experiments.Metrics.GradientInterference.meanPairwise(GradientCosines(parameters, perSampleLosses));
}
