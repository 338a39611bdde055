using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>
/// A linear layer with factorised Gaussian noise on its weights (Fortunato et al. 2018, "Noisy networks
/// for exploration", sec. 3): w = mu_w + sigma_w * (f(eps_out) f(eps_in)^T), b = mu_b + sigma_b * f(eps_out),
/// f(x) = sgn(x) sqrt(|x|); mu ~ U(-1/sqrt(p), 1/sqrt(p)), sigma = sigma0 / sqrt(p) with p inputs.
/// The noise is drawn by <see cref="ResampleNoise"/> from a seeded generator and used in training mode;
/// evaluation mode uses the means.
/// </summary>
public sealed class NoisyLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight_mu, weight_sigma, bias_mu, bias_sigma;
    private readonly Tensor epsilon_in, epsilon_out;

    public NoisyLinear(int inputs, int outputs, double sigma0 = 0.5) : base(nameof(NoisyLinear))
    {
        var bound = 1.0 / Math.Sqrt(inputs);
        weight_mu = new Parameter(empty(outputs, inputs).uniform_(-bound, bound));
        bias_mu = new Parameter(empty(outputs).uniform_(-bound, bound));
        weight_sigma = new Parameter(full(outputs, inputs, sigma0 / Math.Sqrt(inputs)));
        bias_sigma = new Parameter(full(outputs, sigma0 / Math.Sqrt(inputs)));
        epsilon_in = zeros(inputs);
        epsilon_out = zeros(outputs);
        register_buffer(nameof(epsilon_in), epsilon_in);
        register_buffer(nameof(epsilon_out), epsilon_out);
        RegisterComponents();
    }

    /// <summary>Draws new noise from the generator (a CPU one: the noise is copied to the layer's device).</summary>
    public void ResampleNoise(Generator generator)
    {
        using var _ = no_grad();
        epsilon_in.copy_(Scale(randn(epsilon_in.shape, generator: generator)));
        epsilon_out.copy_(Scale(randn(epsilon_out.shape, generator: generator)));
    }

    public override Tensor forward(Tensor input)
    {
        if (!training) return nn.functional.linear(input, weight_mu, bias_mu);
        var weight = weight_mu + weight_sigma * outer(epsilon_out, epsilon_in);
        var bias = bias_mu + bias_sigma * epsilon_out;
        return nn.functional.linear(input, weight, bias);
    }

    private static Tensor Scale(Tensor x) => x.sign() * x.abs().sqrt();
}
