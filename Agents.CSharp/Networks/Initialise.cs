using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>
/// Initialisations of a network's plain layers, drawn from an explicit generator that the network seeds (torch's
/// global generator is neither seeded nor read for a network built with one, so building a network changes no
/// other draw). TorchSharp's layer constructors draw their default values from the global generator; a layer made
/// here draws them again from the given generator exactly as the constructor does, so a network built from
/// <c>new Generator(seed)</c> holds bit for bit the values that <c>torch.random.manual_seed(seed)</c> followed by the
/// constructors gave (a CPU generator is a Mersenne twister whose state is its seed either way).
/// </summary>
public static class Initialise
{
    /// <summary>
    /// Xavier-uniform's bound for a weight of shape [out, in, k...]: sqrt(6 / (fan_in + fan_out)), fan_in = in * k...,
    /// fan_out = out * k... (Glorot and Bengio 2010; torch.nn.init.xavier_uniform_ and flax's xavier_uniform agree).
    /// </summary>
    public static double XavierBound(long[] shape)
    {
        var receptive = shape.Skip(2).Aggregate(1L, (n, d) => n * d);
        var fanIn = shape[1] * receptive;
        var fanOut = shape[0] * receptive;
        return Math.Sqrt(6.0 / (fanIn + fanOut));
    }

    /// <summary>
    /// Every plain linear and convolution layer of <paramref name="network"/>: Xavier-uniform weight, zero bias
    /// (Dopamine's networks, dopamine/jax/networks.py). Noisy layers keep their own initialisation.
    /// </summary>
    public static void Xavier_Uniform(nn.Module network, Generator? generator = null)
    {
        using var _ = no_grad();
        foreach (var module in network.modules())
        {
            var (weight, bias) = module switch
            {
                Linear linear => (linear.weight, linear.bias),
                Conv2d conv => (conv.weight, conv.bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            var bound = XavierBound(weight.shape);
            weight.uniform_(-bound, bound, generator);
            bias?.zero_();
        }
    }

    /// <summary>The negative slope torch's layers give kaiming_uniform_ for their default weights: sqrt(5)
    /// (torch.nn.Linear.reset_parameters and _ConvNd.reset_parameters; TorchSharp's Linear and Convolution).</summary>
    public static readonly double DefaultSlope = Math.Sqrt(5);

    /// <summary>A linear layer whose default values (as <see cref="Torch_Default"/>) come from <paramref name="generator"/> when given.</summary>
    public static Linear NewLinear(long inputs, long outputs, Generator? generator = null)
    {
        var layer = nn.Linear(inputs, outputs);
        if (generator is not null) Torch_Default(layer.weight!, layer.bias, generator);
        return layer;
    }

    /// <summary>A 2-d convolution whose default values (as <see cref="Torch_Default"/>) come from <paramref name="generator"/> when given.</summary>
    public static Conv2d NewConv2d(long inputs, long outputs, long kernel, long stride, long padding, Generator? generator = null)
    {
        var layer = nn.Conv2d(inputs, outputs, kernel, stride: stride, padding: padding);
        if (generator is not null) Torch_Default(layer.weight!, layer.bias, generator);
        return layer;
    }

    /// <summary>
    /// torch's default values for a linear or convolution layer, drawn from <paramref name="generator"/> in the
    /// constructors' order: the weight by kaiming_uniform_ with a = sqrt(5), U(-b, b) with
    /// b = sqrt(3) * sqrt(2 / (1 + a^2)) / sqrt(fan_in) (libtorch's torch/csrc/api/src/nn/init.cpp, computed in the same
    /// order), then the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in * k....
    /// </summary>
    public static void Torch_Default(Tensor weight, Tensor? bias, Generator generator)
    {
        using var _ = no_grad();
        var fanIn = weight.shape[1] * weight.shape.Skip(2).Aggregate(1L, (n, d) => n * d);
        var gain = Math.Sqrt(2.0 / (1 + Math.Pow(DefaultSlope, 2)));
        var bound = Math.Sqrt(3.0) * (gain / Math.Sqrt(fanIn));
        weight.uniform_(-bound, bound, generator);
        if (bias is null) return;
        var biasBound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        bias.uniform_(-biasBound, biasBound, generator);
    }
}
