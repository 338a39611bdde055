using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>Initialisations of a network's plain layers, drawn from torch's generator (seeded by the network).</summary>
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
    public static void XavierUniform(nn.Module network)
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
            weight.uniform_(-bound, bound);
            bias?.zero_();
        }
    }
}
