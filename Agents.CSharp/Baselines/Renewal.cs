using Prunerl.Agents.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Baselines;

/// <summary>
/// What a baseline rewrote: per parameter, a boolean mask of the entries given new values, so that the
/// optimizer's state for exactly those entries can be reset (as the reference ReDo code does).
/// </summary>
public sealed class Renewal : IDisposable
{
    private readonly List<(Parameter Parameter, Tensor Mask)> touched = [];

    /// <summary>Per layer, how many neurons were renewed.</summary>
    public List<(string Layer, int Neurons)> Layers { get; } = [];

    /// <summary>The parameters rewritten, each with the mask of its rewritten entries.</summary>
    public IReadOnlyList<(Parameter Parameter, Tensor Mask)> Touched => touched;

    // Detached from any dispose scope around the baseline: the renewal owns its masks.
    internal void Add(Parameter parameter, Tensor mask) => touched.Add((parameter, mask.expand(parameter.shape).clone().DetachFromDisposeScope()));

    public void Dispose()
    {
        foreach (var (_, mask) in touched) mask.Dispose();
    }
}

/// <summary>Fresh initial values, drawn as PyTorch initialises linear and convolution layers.</summary>
internal static class FreshWeights
{
    /// <summary>
    /// Gives the rows selected by <paramref name="rows"/> (a [n] mask over dimension 0; every row when null)
    /// of a weight and its bias new values from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for
    /// both (kaiming_uniform with a = sqrt(5)), drawn from the seeded generator; records them in the renewal.
    /// The generator is a CPU one wherever the network lives: the values are drawn on the CPU and copied to
    /// the weights' device, so a run draws the same fresh weights on any device and its checkpoint holds a
    /// generator state every device can load.
    /// </summary>
    public static void Draw(Parameter weight, Parameter? bias, Tensor? rows, Generator generator, Renewal renewal)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var bound = 1.0 / Math.Sqrt(weight[0].numel());
        var rowShape = new long[weight.dim()];
        Array.Fill(rowShape, 1L);
        rowShape[0] = weight.shape[0];
        var selected = (rows ?? ones(weight.shape[0], ScalarType.Bool, weight.device)).view(rowShape);
        using var scalars = new OwnedScalars();
        var (width, offset) = (scalars.Of(2 * bound), scalars.Of(bound));
        Renew(weight, selected, width, offset, generator, renewal);
        if (bias is not null) Renew(bias, selected.view(-1), width, offset, generator, renewal);
    }

    /// <summary>U(-bound, bound) = U(0, 1) * <paramref name="width"/> - <paramref name="offset"/> (2 bound and bound) where selected.</summary>
    private static void Renew(Parameter parameter, Tensor selected, Scalar width, Scalar offset, Generator generator, Renewal renewal)
    {
        var fresh = rand(parameter.shape, generator: generator).mul(width).sub(offset).ToDevice(parameter.device);
        parameter.copy_(where(selected, fresh, parameter));
        renewal.Add(parameter, selected);
    }
}
