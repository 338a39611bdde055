using Prunerl.Agents.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

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

/// <summary>Fresh initial values, drawn as the layers were initialised.</summary>
internal static class FreshWeights
{
    /// <summary>
    /// Gives the neurons selected by <paramref name="neurons"/> (a [n] mask; every neuron when null) of a layer
    /// fresh values in every parameter, as the layer describes them (<see cref="FreshValues"/>), in the layer's
    /// order of parameters; records them in the renewal. Uniform values are drawn for the whole parameter from the
    /// seeded generator, U(-bound, bound) = U(0, 1) * 2 bound - bound, and kept where selected. The generator is a
    /// CPU one wherever the network lives: the values are drawn on the CPU and copied to the parameters' device,
    /// so a run draws the same fresh weights on any device and its checkpoint holds a generator state every
    /// device can load.
    /// </summary>
    public static void Draw(RenewableLayer layer, Tensor? neurons, Generator generator, Renewal renewal)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var scalars = new OwnedScalars();
        var device = layer.Parameters[0].Parameter.device;
        var selectedNeurons = neurons ?? ones(layer.Neurons, ScalarType.Bool, device);
        foreach (var (parameter, fresh) in layer.Parameters)
        {
            // Neuron i's entries: index i along dimension 0.
            var shape = Enumerable.Repeat(1L, (int)parameter.dim()).ToArray();
            shape[0] = -1;
            var selected = selectedNeurons.view(shape);
            switch (fresh)
            {
                case FreshValues.Uniform uniform:
                    var values = rand(parameter.shape, generator: generator)
                        .mul(scalars.Of(2 * uniform.Bound)).sub(scalars.Of(uniform.Bound)).ToDevice(parameter.device);
                    parameter.copy_(where(selected, values, parameter));
                    break;
                case FreshValues.Constant constant:
                    parameter.masked_fill_(selected, scalars.Of(constant.Value));
                    break;
            }
            renewal.Add(parameter, selected);
        }
    }
}
