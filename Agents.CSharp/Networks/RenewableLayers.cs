using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>How a renewal (ReDo, Reset) gives a parameter's entries fresh values: as the layer initialised them.</summary>
public abstract record FreshValues
{
    private FreshValues() { }

    /// <summary>Drawn from U(-<paramref name="Bound"/>, <paramref name="Bound"/>).</summary>
    public sealed record Uniform(double Bound) : FreshValues;

    /// <summary>Set to <paramref name="Value"/>.</summary>
    public sealed record Constant(double Value) : FreshValues;
}

/// <summary>A parameter whose entry i along dimension 0 belongs to the layer's output neuron i, with how it is initialised.</summary>
public sealed record NeuronParameter(Parameter Parameter, FreshValues Fresh);

/// <summary>
/// A layer as the baselines see it: <paramref name="Parameters"/>, its parameters by output neuron, each with
/// how it is initialised; <paramref name="InputWeights"/>, the weights that read its inputs (input j is entry j
/// along their dimension 1). A plain linear or convolution layer has a weight and a bias, both initialised from
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default: kaiming_uniform with a = sqrt(5), and its bias rule),
/// and its weight reads its inputs; a noisy layer is described by <see cref="NoisyLinear.Renewable"/>.
/// </summary>
public sealed record RenewableLayer(string Name, IReadOnlyList<NeuronParameter> Parameters, IReadOnlyList<Parameter> InputWeights)
{
    /// <summary>Whether this is a plain linear or convolution layer (a weight and maybe a bias), whose fresh values follow the network's initialisation.</summary>
    public bool IsPlain { get; private init; }

    /// <summary>
    /// The layer with fresh values drawn as <paramref name="init"/> starts a plain layer: Xavier-uniform weights
    /// and zero biases (labs/redo sets recycled biases to 0), or PyTorch's default; a noisy layer is unchanged.
    /// </summary>
    public RenewableLayer Initialised(Prunerl.Experiments.Initialization init)
    {
        if (!IsPlain || !init.IsXavier_Uniform) return this;
        var weight = Parameters[0].Parameter;
        var fresh = new FreshValues.Uniform(Initialise.XavierBound(weight.shape));
        return this with
        {
            Parameters = Parameters.Select((p, i) => new NeuronParameter(p.Parameter, i == 0 ? fresh : new FreshValues.Constant(0))).ToList(),
        };
    }

    /// <summary>Number of output neurons.</summary>
    public int Neurons => (int)Parameters[0].Parameter.shape[0];

    /// <summary>A linear, convolution or noisy linear layer, named <paramref name="name"/>.</summary>
    public static RenewableLayer Of(string name, nn.Module layer) => layer switch
    {
        Linear linear => Plain(name, linear.weight!, linear.bias),
        Conv2d conv => Plain(name, conv.weight!, conv.bias),
        NoisyLinear noisy => noisy.Renewable(name),
        _ => throw new ArgumentException($"{name}: a {layer.GetType().Name} has no renewable neurons", nameof(layer)),
    };

    private static RenewableLayer Plain(string name, Parameter weight, Parameter? bias)
    {
        var fanIn = weight.shape.Skip(1).Aggregate(1L, (n, d) => n * d);
        var fresh = new FreshValues.Uniform(1.0 / Math.Sqrt(fanIn));
        IEnumerable<NeuronParameter> parameters = [new(weight, fresh)];
        if (bias is not null) parameters = parameters.Append(new(bias, fresh));
        return new RenewableLayer(name, parameters.ToList(), [weight]) { IsPlain = true };
    }
}

/// <summary>Weights that read a layer's neurons: along <paramref name="Dimension"/>, neuron i owns the
/// <paramref name="Block"/> consecutive entries from i * Block (a block of positions when a dense layer
/// reads a flattened convolution).</summary>
public sealed record NeuronReader(Parameter Weight, int Dimension, int Block)
{
    /// <summary>The readers in <paramref name="layer"/> of the layer below it, whose neuron i owns <paramref name="block"/> consecutive inputs from i * block.</summary>
    public static IReadOnlyList<NeuronReader> In(RenewableLayer layer, int block = 1) =>
        layer.InputWeights.Select(weight => new NeuronReader(weight, 1, block)).ToList();
}

/// <summary>A hidden layer whose neurons can be recycled: neuron i's incoming parameters are those of
/// <paramref name="Layer"/>; <paramref name="Readers"/> consume its output (every weight that reads it: a noisy
/// reader's means and noise scales both).</summary>
public sealed record RecyclableLayer(RenewableLayer Layer, IReadOnlyList<NeuronReader> Readers)
{
    /// <summary>The layer's name, as its activations are recorded.</summary>
    public string Name => Layer.Name;
}
