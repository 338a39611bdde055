using Prunerl.Agents.Runtime;
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
/// <remarks>
/// Tensor lifetimes: the noise buffers are detached from any dispose scope active at construction (a
/// scope ending would otherwise free buffers the layer still holds) and are only ever copied into, never
/// replaced. The forward pass and the noise draw keep their temporaries in a scope of their own, so that
/// none is left to the finalizer thread, which frees native tensors concurrently with the running op; and
/// the forward pass's additions take an alpha Scalar the layer holds (<see cref="OwnedScalars"/>).
/// </remarks>
public sealed class NoisyLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight_mu, weight_sigma, bias_mu, bias_sigma;
    private readonly Tensor epsilon_in, epsilon_out;
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one;
    /// <summary>The means' initial bound 1/sqrt(p) and the noise scales' initial value sigma0/sqrt(p).</summary>
    private readonly double bound, initialSigma;

    /// <remarks>The means' initial values are drawn from <paramref name="generator"/> when given (torch's global generator when null).</remarks>
    public NoisyLinear(int inputs, int outputs, double sigma0 = 0.5, Generator? generator = null) : base(nameof(NoisyLinear))
    {
        bound = 1.0 / Math.Sqrt(inputs);
        initialSigma = sigma0 / Math.Sqrt(inputs);
        weight_mu = new Parameter(empty(outputs, inputs).uniform_(-bound, bound, generator));
        bias_mu = new Parameter(empty(outputs).uniform_(-bound, bound, generator));
        var sigma = scalars.Of(initialSigma);
        weight_sigma = new Parameter(full(outputs, inputs, sigma));
        bias_sigma = new Parameter(full(outputs, sigma));
        epsilon_in = zeros(inputs).DetachFromDisposeScope();
        epsilon_out = zeros(outputs).DetachFromDisposeScope();
        register_buffer(nameof(epsilon_in), epsilon_in);
        register_buffer(nameof(epsilon_out), epsilon_out);
        one = scalars.Of(1.0);
        RegisterComponents();
    }

    /// <summary>
    /// The layer as the baselines renew it: per output neuron, fresh means from U(-1/sqrt(p), 1/sqrt(p)) and
    /// noise scales back to sigma0/sqrt(p), as at construction. Its inputs are read by the weights' means and
    /// noise scales both: a recycled input is cut off by zeroing both, or the noise would still carry it.
    /// </summary>
    public RenewableLayer Renewable(string name)
    {
        var (mean, scale) = (new FreshValues.Uniform(bound), new FreshValues.Constant(initialSigma));
        return new RenewableLayer(name,
            [new(weight_mu, mean), new(bias_mu, mean), new(weight_sigma, scale), new(bias_sigma, scale)],
            [weight_mu, weight_sigma]);
    }

    /// <summary>Draws new noise from the generator (a CPU generator; the noise is copied to the layer's device).</summary>
    public void ResampleNoise(Generator generator)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Draw(epsilon_in, generator);
        Draw(epsilon_out, generator);
    }

    public override Tensor forward(Tensor input)
    {
        if (!training) return nn.functional.linear(input, weight_mu, bias_mu);
        using var scope = NewDisposeScope();
        var weight = weight_mu.add(weight_sigma * outer(epsilon_out, epsilon_in), one);
        var bias = bias_mu.add(bias_sigma * epsilon_out, one);
        return scope.MoveToOuter(nn.functional.linear(input, weight, bias));
    }

    /// <summary>f(z) = sgn(z) sqrt(|z|) of standard normal z, written into the buffer in place.</summary>
    private static void Draw(Tensor buffer, Generator generator)
    {
        var z = randn(buffer.shape, generator: generator);
        buffer.copy_(z.sign().mul_(z.abs().sqrt_()));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) scalars.Dispose();
        base.Dispose(disposing);
    }
}
