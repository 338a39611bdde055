using Prunerl.Agents.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>
/// How a network makes its fully connected layers: plain linear layers, or noisy ones of initial noise scale
/// <paramref name="Sigma0"/> (Fortunato et al. 2018; as Dopamine's FullRainbowNetwork, noisy nets make every
/// dense layer noisy and leave convolutions plain). Torsos take it as their last argument, plain when left out.
/// </summary>
public sealed record DenseLayers(bool Noisy, double Sigma0 = 0.1)
{
    /// <summary>Plain linear layers.</summary>
    public static DenseLayers Plain { get; } = new(false);

    /// <summary>A fully connected layer from <paramref name="inputs"/> to <paramref name="outputs"/> units.</summary>
    /// <remarks>Initialised from <paramref name="generator"/> when given (torch's global generator otherwise).</remarks>
    public nn.Module<Tensor, Tensor> Make(int inputs, int outputs, Generator? generator = null) =>
        Noisy ? new NoisyLinear(inputs, outputs, Sigma0, generator) : Initialise.NewLinear(inputs, outputs, generator);
}

/// <summary>The part of a value network below its head: observations in, features out.</summary>
public abstract class Torso : nn.Module<Tensor, Tensor>
{
    protected Torso(string name) : base(name) { }

    /// <summary>Size of the feature vector the head reads (the penultimate layer).</summary>
    public abstract int Features { get; }

    /// <summary>
    /// Features of a batch, with each hidden layer's post-activation output appended to
    /// <paramref name="activations"/> when it is given (for dormant-neuron analysis).
    /// </summary>
    public abstract Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations);

    public override Tensor forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// The hidden layers whose neurons can be recycled (ReDo), each with the weights that read it; the
    /// last layer is read by <paramref name="headReaders"/>. Names match the recorded activations.
    /// </summary>
    public abstract IReadOnlyList<RecyclableLayer> RecyclableLayers(IReadOnlyList<NeuronReader> headReaders);

    /// <summary>Channels or units scaled by the width multiplier, at least one.</summary>
    public static int Scaled(int units, double width) => Math.Max(1, (int)Math.Round(units * width));

    protected static Tensor Record(Tensor activation, string layer, IList<(string Layer, Tensor Activation)>? activations)
    {
        activations?.Add((layer, activation));
        return activation;
    }

    /// <summary>The dense layer that closes a convolutional torso: flattened maps in, ReLU, recorded as "dense".</summary>
    protected static Tensor Dense(nn.Module<Tensor, Tensor> dense, Tensor maps, IList<(string Layer, Tensor Activation)>? activations) =>
        Record(nn.functional.relu(dense.forward(maps.flatten(1))), "dense", activations);

    /// <summary>The recyclable dense layer that closes a convolutional torso, read by the head.</summary>
    protected static RecyclableLayer DenseLayer(nn.Module dense, IReadOnlyList<NeuronReader> headReaders) =>
        new(RenewableLayer.Of("dense", dense), headReaders);

    /// <summary>The last convolution <paramref name="conv"/>, named <paramref name="name"/>, read by the dense layer: channel c owns a block of positions.</summary>
    protected static RecyclableLayer FlattenedLayer(string name, Conv2d conv, nn.Module dense)
    {
        var reader = RenewableLayer.Of("dense", dense);
        var block = reader.InputWeights[0].shape[1] / conv.weight!.shape[0];
        return new RecyclableLayer(RenewableLayer.Of(name, conv), NeuronReader.In(reader, (int)block));
    }
}

/// <summary>Fully connected layers with ReLU, for vector observations (classic control).</summary>
public sealed class MlpTorso : Torso
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers = new();

    /// <remarks>The initial weights are drawn from <paramref name="generator"/> when given (torch's global generator when null).</remarks>
    public MlpTorso(int inputs, IReadOnlyList<int> hidden, double width, DenseLayers? dense = null, Generator? generator = null) : base(nameof(MlpTorso))
    {
        if (hidden.Count == 0) throw new ArgumentException("an MLP torso needs at least one hidden layer", nameof(hidden));
        dense ??= DenseLayers.Plain;
        var previous = inputs;
        foreach (var units in hidden)
        {
            var scaled = Scaled(units, width);
            layers.Add(dense.Make(previous, scaled, generator));
            previous = scaled;
        }
        Features = previous;
        RegisterComponents();
    }

    public override int Features { get; }

    public override Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations)
    {
        var x = input.flatten(1);
        for (var i = 0; i < layers.Count; i++) x = Record(nn.functional.relu(layers[i].forward(x)), $"layers.{i}", activations);
        return x;
    }

    public override IReadOnlyList<RecyclableLayer> RecyclableLayers(IReadOnlyList<NeuronReader> headReaders) =>
        Enumerable.Range(0, layers.Count).Select(i => new RecyclableLayer(
                RenewableLayer.Of($"layers.{i}", layers[i]),
                i + 1 < layers.Count ? NeuronReader.In(RenewableLayer.Of($"layers.{i + 1}", layers[i + 1])) : headReaders))
            .ToList();
}

/// <summary>
/// The MinAtar network's torso (Young and Tian 2019): one 3x3 convolution of 16 channels, stride 1, no
/// padding, ReLU, flatten, then a dense layer of 128 units with ReLU. The convolution's channels are scaled
/// by the width; the dense layer's units by <c>denseWidth</c> (the paper's scope scales the convolutions only:
/// pass 1; left out, the width scales both, as labs/redo).
/// </summary>
public sealed class MinAtarTorso : Torso
{
    private readonly Conv2d conv;
    private readonly nn.Module<Tensor, Tensor> dense;

    /// <remarks>The initial weights are drawn from <paramref name="generator"/> when given (torch's global generator when null).</remarks>
    public MinAtarTorso(int channels, int height, int width, double widthMultiplier, DenseLayers? denseLayers = null, double? denseWidth = null, Generator? generator = null) : base(nameof(MinAtarTorso))
    {
        var filters = Scaled(16, widthMultiplier);
        conv = Initialise.NewConv2d(channels, filters, 3, stride: 1, padding: 0, generator);
        Features = Scaled(128, denseWidth ?? widthMultiplier);
        dense = (denseLayers ?? DenseLayers.Plain).Make(filters * (height - 2) * (width - 2), Features, generator);
        RegisterComponents();
    }

    public override int Features { get; }

    public override Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations)
    {
        return Dense(dense, Record(nn.functional.relu(conv.forward(input)), "conv", activations), activations);
    }

    public override IReadOnlyList<RecyclableLayer> RecyclableLayers(IReadOnlyList<NeuronReader> headReaders) =>
    [
        FlattenedLayer("conv", conv, dense),
        DenseLayer(dense, headReaders),
    ];
}

/// <summary>
/// The Nature DQN torso (Mnih et al. 2015): convolutions 32 8x8/4, 64 4x4/2, 64 3x3/1, then a dense layer
/// of 512 units, all with ReLU; convolutions scaled by the width, the dense layer by <c>denseWidth</c> (the
/// width when left out). Made for 84x84 frames; smaller inputs are refused.
/// </summary>
public sealed class NatureTorso : Torso
{
    private readonly ModuleList<Conv2d> convs = new();
    private readonly nn.Module<Tensor, Tensor> dense;

    /// <remarks>The initial weights are drawn from <paramref name="generator"/> when given (torch's global generator when null).</remarks>
    public NatureTorso(int channels, int height, int width, double widthMultiplier, DenseLayers? denseLayers = null, double? denseWidth = null, Generator? generator = null) : base(nameof(NatureTorso))
    {
        (int Filters, int Kernel, int Stride)[] layers = [(32, 8, 4), (64, 4, 2), (64, 3, 1)];
        int h = height, w = width, previous = channels;
        foreach (var (filters, kernel, stride) in layers)
        {
            h = (h - kernel) / stride + 1;
            w = (w - kernel) / stride + 1;
            if (h < 1 || w < 1)
                throw new ArgumentException($"the Nature CNN needs larger frames than {height}x{width} (it is made for 84x84); use the MinAtar or Impala network");
            var scaled = Scaled(filters, widthMultiplier);
            convs.Add(Initialise.NewConv2d(previous, scaled, kernel, stride: stride, padding: 0, generator));
            previous = scaled;
        }
        Features = Scaled(512, denseWidth ?? widthMultiplier);
        dense = (denseLayers ?? DenseLayers.Plain).Make(previous * h * w, Features, generator);
        RegisterComponents();
    }

    public override int Features { get; }

    public override Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations)
    {
        var x = input;
        for (var i = 0; i < convs.Count; i++) x = Record(nn.functional.relu(convs[i].forward(x)), $"convs.{i}", activations);
        return Dense(dense, x, activations);
    }

    public override IReadOnlyList<RecyclableLayer> RecyclableLayers(IReadOnlyList<NeuronReader> headReaders) =>
        Enumerable.Range(0, convs.Count).Select(i => i + 1 < convs.Count
                ? new RecyclableLayer(RenewableLayer.Of($"convs.{i}", convs[i]), NeuronReader.In(RenewableLayer.Of($"convs.{i + 1}", convs[i + 1])))
                : FlattenedLayer($"convs.{i}", convs[i], dense))
            .Append(DenseLayer(dense, headReaders))
            .ToList();
}

/// <summary>
/// The Impala ResNet torso (Espeholt et al. 2018), the paper's main network: three stacks of a 3x3
/// convolution (same padding), a 3x3 max-pool of stride 2, and two residual blocks
/// (ReLU, conv, ReLU, conv, plus the input), with 16, 32, 32 channels times the width; then ReLU,
/// flatten, and a dense layer of 512 units times <c>denseWidth</c> (the width when left out) with ReLU. The
/// paper's scope is Dopamine's ImpalaDQNNetwork nn_scale: the encoder's channels only (denseWidth 1).
/// </summary>
public sealed class ImpalaTorso : Torso
{
    private readonly ModuleList<ImpalaStack> stacks = new();
    private readonly nn.Module<Tensor, Tensor> dense;

    /// <remarks>The initial weights are drawn from <paramref name="generator"/> when given (torch's global generator when null).</remarks>
    public ImpalaTorso(int channels, int height, int width, double widthMultiplier, DenseLayers? denseLayers = null, double? denseWidth = null, Generator? generator = null) : base(nameof(ImpalaTorso))
    {
        int h = height, w = width, previous = channels;
        foreach (var size in new[] { 16, 32, 32 })
        {
            var scaled = Scaled(size, widthMultiplier);
            stacks.Add(new ImpalaStack(previous, scaled, generator));
            previous = scaled;
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        Features = Scaled(512, denseWidth ?? widthMultiplier);
        dense = (denseLayers ?? DenseLayers.Plain).Make(previous * h * w, Features, generator);
        RegisterComponents();
    }

    public override int Features { get; }

    public override Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations)
    {
        var x = input;
        for (var i = 0; i < stacks.Count; i++) x = stacks[i].Forward(x, $"stacks.{i}", activations);
        return Dense(dense, nn.functional.relu(x), activations);
    }

    /// <summary>As the reference ReDo code: the first convolution of each residual block, and the dense layer.</summary>
    public override IReadOnlyList<RecyclableLayer> RecyclableLayers(IReadOnlyList<NeuronReader> headReaders) =>
        stacks.SelectMany((stack, i) => stack.RecyclableLayers($"stacks.{i}"))
            .Append(DenseLayer(dense, headReaders))
            .ToList();

    /// <summary>One stack: convolution, max-pool, two residual blocks.</summary>
    private sealed class ImpalaStack : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv;
        private readonly ModuleList<Conv2d> blockConvs = new();
        /// <summary>The alpha of the residual additions (<see cref="OwnedScalars"/>).</summary>
        private readonly OwnedScalars scalars = new();
        private readonly Scalar one;

        public ImpalaStack(int inputs, int channels, Generator? generator) : base(nameof(ImpalaStack))
        {
            conv = Initialise.NewConv2d(inputs, channels, 3, stride: 1, padding: 1, generator);
            for (var i = 0; i < 4; i++) blockConvs.Add(Initialise.NewConv2d(channels, channels, 3, stride: 1, padding: 1, generator));
            one = scalars.Of(1);
            RegisterComponents();
        }

        public Tensor Forward(Tensor input, string name, IList<(string Layer, Tensor Activation)>? activations)
        {
            var x = nn.functional.max_pool2d(conv.forward(input), 3, 2, 1);
            for (var block = 0; block < 2; block++)
            {
                // The first convolution's output is the block's neurons (ReDo recycles those).
                var hidden = Torso.Record(nn.functional.relu(blockConvs[2 * block].forward(nn.functional.relu(x))), $"{name}.block{block}", activations);
                x = x.add(blockConvs[2 * block + 1].forward(hidden), one);
            }
            return x;
        }

        public override Tensor forward(Tensor input) => Forward(input, "stack", null);

        protected override void Dispose(bool disposing)
        {
            if (disposing) scalars.Dispose();
            base.Dispose(disposing);
        }

        /// <summary>Each block's first convolution, read by the block's second.</summary>
        public IEnumerable<RecyclableLayer> RecyclableLayers(string name) =>
            Enumerable.Range(0, 2).Select(block => new RecyclableLayer(
                RenewableLayer.Of($"{name}.block{block}", blockConvs[2 * block]),
                NeuronReader.In(RenewableLayer.Of($"{name}.blockConvs.{2 * block + 1}", blockConvs[2 * block + 1]))));
    }
}
