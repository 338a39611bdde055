using TorchSharp;
using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Optimisers;

/// <summary>
/// An L2 term lambda * sum w^2 over the kernels (parameters of two or more dimensions) of one flat buffer, taken
/// as its gradient: <see cref="AddGradient"/> adds 2 lambda w to the kernels' gradients after a backward pass (the
/// same update as the term in the loss; Keras's L2 kernel regulariser). Biases and other vectors are left alone.
/// </summary>
public sealed class KernelL2 : IDisposable
{
    private readonly FlatParameters parameters;
    /// <summary>2 lambda at the kernels' entries, 0 elsewhere: the term's gradient is scale * w.</summary>
    private readonly Tensor scale;
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one;

    public KernelL2(FlatParameters parameters, double lambda)
    {
        if (!(lambda >= 0 && double.IsFinite(lambda))) throw new ArgumentOutOfRangeException(nameof(lambda), $"lambda must be finite and >= 0, got {lambda}");
        this.parameters = parameters;
        scale = zeros_like(parameters.Values).DetachFromDisposeScope();
        var twice = scalars.Of(2 * lambda);
        foreach (var slice in parameters.Slices.Where(s => s.Shape.Length >= 2)) scale.narrow(0, slice.Offset, slice.Length).fill_(twice);
        one = scalars.Of(1);
    }

    /// <summary>Adds the term's gradient, 2 lambda w on the kernels, to the buffer's gradients.</summary>
    public void AddGradient()
    {
        using var _ = no_grad();
        parameters.Gradients.addcmul_(parameters.Values, scale, one);
    }

    public void Dispose()
    {
        scale.Dispose();
        scalars.Dispose();
    }
}
