using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

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

    /// <summary>Channels or units scaled by the width multiplier, at least one.</summary>
    public static int Scaled(int units, double width) => Math.Max(1, (int)Math.Round(units * width));

    protected static Tensor Record(Tensor activation, string layer, IList<(string Layer, Tensor Activation)>? activations)
    {
        activations?.Add((layer, activation));
        return activation;
    }
}

/// <summary>Fully connected layers with ReLU, for vector observations (classic control).</summary>
public sealed class MlpTorso : Torso
{
    private readonly ModuleList<Linear> layers = new();

    public MlpTorso(int inputs, IReadOnlyList<int> hidden, double width) : base(nameof(MlpTorso))
    {
        if (hidden.Count == 0) throw new ArgumentException("an MLP torso needs at least one hidden layer", nameof(hidden));
        var previous = inputs;
        foreach (var units in hidden)
        {
            var scaled = Scaled(units, width);
            layers.Add(nn.Linear(previous, scaled));
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
}

/// <summary>
/// The MinAtar network's torso (Young and Tian 2019): one 3x3 convolution of 16 channels, stride 1, no
/// padding, ReLU, flatten, then a dense layer of 128 units with ReLU; both scaled by the width.
/// </summary>
public sealed class MinAtarTorso : Torso
{
    private readonly Conv2d conv;
    private readonly Linear dense;

    public MinAtarTorso(int channels, int height, int width, double widthMultiplier) : base(nameof(MinAtarTorso))
    {
        var filters = Scaled(16, widthMultiplier);
        conv = nn.Conv2d(channels, filters, 3, stride: 1);
        dense = nn.Linear(filters * (height - 2) * (width - 2), Scaled(128, widthMultiplier));
        Features = Scaled(128, widthMultiplier);
        RegisterComponents();
    }

    public override int Features { get; }

    public override Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations)
    {
        var x = Record(nn.functional.relu(conv.forward(input)), "conv", activations);
        return Record(nn.functional.relu(dense.forward(x.flatten(1))), "dense", activations);
    }
}

/// <summary>
/// The Nature DQN torso (Mnih et al. 2015): convolutions 32 8x8/4, 64 4x4/2, 64 3x3/1, then a dense layer
/// of 512 units, all with ReLU and scaled by the width. Made for 84x84 frames; smaller inputs are refused.
/// </summary>
public sealed class NatureTorso : Torso
{
    private readonly ModuleList<Conv2d> convs = new();
    private readonly Linear dense;

    public NatureTorso(int channels, int height, int width, double widthMultiplier) : base(nameof(NatureTorso))
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
            convs.Add(nn.Conv2d(previous, scaled, kernel, stride: stride));
            previous = scaled;
        }
        dense = nn.Linear(previous * h * w, Scaled(512, widthMultiplier));
        Features = Scaled(512, widthMultiplier);
        RegisterComponents();
    }

    public override int Features { get; }

    public override Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations)
    {
        var x = input;
        for (var i = 0; i < convs.Count; i++) x = Record(nn.functional.relu(convs[i].forward(x)), $"convs.{i}", activations);
        return Record(nn.functional.relu(dense.forward(x.flatten(1))), "dense", activations);
    }
}

/// <summary>
/// The Impala ResNet torso (Espeholt et al. 2018), the paper's main network: three stacks of a 3x3
/// convolution (same padding), a 3x3 max-pool of stride 2, and two residual blocks
/// (ReLU, conv, ReLU, conv, plus the input), with 16, 32, 32 channels times the width; then ReLU,
/// flatten, and a dense layer of 512 units times the width with ReLU.
/// </summary>
public sealed class ImpalaTorso : Torso
{
    private readonly ModuleList<ImpalaStack> stacks = new();
    private readonly Linear dense;

    public ImpalaTorso(int channels, int height, int width, double widthMultiplier) : base(nameof(ImpalaTorso))
    {
        int h = height, w = width, previous = channels;
        foreach (var size in new[] { 16, 32, 32 })
        {
            var scaled = Scaled(size, widthMultiplier);
            stacks.Add(new ImpalaStack(previous, scaled));
            previous = scaled;
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        dense = nn.Linear(previous * h * w, Scaled(512, widthMultiplier));
        Features = Scaled(512, widthMultiplier);
        RegisterComponents();
    }

    public override int Features { get; }

    public override Tensor Forward(Tensor input, IList<(string Layer, Tensor Activation)>? activations)
    {
        var x = input;
        for (var i = 0; i < stacks.Count; i++) x = stacks[i].Forward(x, $"stacks.{i}", activations);
        x = nn.functional.relu(x);
        return Record(nn.functional.relu(dense.forward(x.flatten(1))), "dense", activations);
    }

    /// <summary>One stack: convolution, max-pool, two residual blocks.</summary>
    private sealed class ImpalaStack : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv;
        private readonly ModuleList<Conv2d> blockConvs = new();

        public ImpalaStack(int inputs, int channels) : base(nameof(ImpalaStack))
        {
            conv = nn.Conv2d(inputs, channels, 3, padding: 1);
            for (var i = 0; i < 4; i++) blockConvs.Add(nn.Conv2d(channels, channels, 3, padding: 1));
            RegisterComponents();
        }

        public Tensor Forward(Tensor input, string name, IList<(string Layer, Tensor Activation)>? activations)
        {
            var x = nn.functional.max_pool2d(conv.forward(input), 3, 2, 1);
            for (var block = 0; block < 2; block++)
            {
                // The first convolution's output is the block's neurons (ReDo recycles those).
                var hidden = Torso.Record(nn.functional.relu(blockConvs[2 * block].forward(nn.functional.relu(x))), $"{name}.block{block}", activations);
                x = x + blockConvs[2 * block + 1].forward(hidden);
            }
            return x;
        }

        public override Tensor forward(Tensor input) => Forward(input, "stack", null);
    }
}
