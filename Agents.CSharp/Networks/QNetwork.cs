using Prunerl.Agents.Envs;
using Prunerl.Agents.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>
/// A value network's shape. <paramref name="Width"/> multiplies every layer's channels and units (the
/// paper's width scaling). <paramref name="Atoms"/> = 1 gives Q-values directly; more gives a C51
/// distribution over that many atoms evenly spaced on [<paramref name="VMin"/>, <paramref name="VMax"/>]
/// (Bellemare et al. 2017). <paramref name="Dueling"/> splits the head into value and advantage streams
/// (Wang et al. 2016); <paramref name="Noisy"/> makes every fully connected layer noisy, the torso's dense
/// layers and the head's (Fortunato et al. 2018; Dopamine's FullRainbowNetwork), with initial noise scale
/// <paramref name="NoisySigma0"/>. <paramref name="MlpHidden"/> sets an MLP torso's hidden units (default 512, 512).
/// <paramref name="Scope"/> says which layers the width scales (an MLP's hidden layers always; a convolutional
/// torso's dense layer only with <see cref="Prunerl.Experiments.WidthScope.All"/>), <paramref name="Init"/> how plain
/// layers start (noisy layers keep Fortunato et al.'s initialisation).
/// </summary>
public sealed record NetworkSpec(
    Prunerl.Experiments.NetworkKind Torso,
    double Width = 1.0,
    int Atoms = 1,
    double VMin = -10,
    double VMax = 10,
    bool Dueling = false,
    bool Noisy = false,
    int[]? MlpHidden = null,
    double NoisySigma0 = 0.1,
    Prunerl.Experiments.WidthScope? Scope = null,
    Prunerl.Experiments.Initialization? Init = null)
{
    /// <summary>Which layers the width scales: null for every layer (labs/redo's scope); runs give theirs.</summary>
    public Prunerl.Experiments.WidthScope WidthScope => Scope ?? Prunerl.Experiments.WidthScope.All;

    /// <summary>How plain layers start: null for PyTorch's default; runs give theirs.</summary>
    public Prunerl.Experiments.Initialization Initialization => Init ?? Prunerl.Experiments.Initialization.Torch_Default;

    /// <summary>The multiplier of the dense layer after a convolutional torso: 1 on the paper's scope, else the width.</summary>
    public double DenseWidth => WidthScope.IsConv ? 1.0 : Width;

    /// <summary>How the network's fully connected layers are made.</summary>
    public DenseLayers DenseLayers => Noisy ? new DenseLayers(true, NoisySigma0) : DenseLayers.Plain;
}

/// <summary>
/// A value network: a torso, then a head giving, per action, a Q-value (or a distribution over returns
/// whose mean is the Q-value).
/// </summary>
public sealed class QNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Torso torso;
    /// <summary>Per action (and atom): the Q-values, or the advantages when dueling.</summary>
    private readonly nn.Module<Tensor, Tensor> head;
    private readonly nn.Module<Tensor, Tensor>? value;
    private readonly Tensor support;
    /// <summary>The alpha of the dueling combination's addition (<see cref="OwnedScalars"/>).</summary>
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one;

    /// <param name="spec">The network's shape.</param>
    /// <param name="observationShape">One observation's shape: [features] or [channels, height, width].</param>
    /// <param name="actions">Number of discrete actions.</param>
    /// <param name="seed">Seed of the initial weights.</param>
    /// <param name="device">Where the parameters live (CPU when null).</param>
    public QNetwork(NetworkSpec spec, IReadOnlyList<int> observationShape, int actions, long seed, Device? device = null) : base(nameof(QNetwork))
    {
        if (!(spec.Width > 0)) throw new ArgumentOutOfRangeException(nameof(spec), $"width must be > 0, got {spec.Width}");
        if (spec.Atoms < 1) throw new ArgumentOutOfRangeException(nameof(spec), $"atoms must be >= 1, got {spec.Atoms}");
        if (spec.Atoms > 1 && !(spec.VMax > spec.VMin)) throw new ArgumentOutOfRangeException(nameof(spec), $"v_max must be > v_min, got [{spec.VMin}, {spec.VMax}]");
        if (actions < 1) throw new ArgumentOutOfRangeException(nameof(actions), $"actions must be >= 1, got {actions}");
        Spec = spec;
        Actions = actions;
        // Every initial value from the network's own generator, in the order the layers are made (Initialise).
        using var generator = new Generator(unchecked((ulong)seed));
        torso = MakeTorso(spec, observationShape, generator);
        head = spec.DenseLayers.Make(torso.Features, actions * spec.Atoms, generator);
        value = spec.Dueling ? spec.DenseLayers.Make(torso.Features, spec.Atoms, generator) : null;
        // Held by the network: never freed by a dispose scope active while it is built.
        support = (spec.Atoms > 1 ? linspace(spec.VMin, spec.VMax, spec.Atoms) : ones(1)).DetachFromDisposeScope();
        register_buffer(nameof(support), support);
        one = scalars.Of(1);
        RegisterComponents();
        // After registration: modules() finds the layers only once they are registered.
        if (spec.Initialization.IsXavier_Uniform) Initialise.Xavier_Uniform(this, generator);
        if (device is not null) this.to(device);
    }

    /// <summary>Parameters of the value network a DQN on this environment trains (the plain Q head).</summary>
    public static long ParameterCount(string environment, NetworkSpec network)
    {
        var env = EnvironmentRegistry.Create(environment);
        var actions = env.ActionSpace is DiscreteSpace discrete ? discrete.Count : 1;
        using var scope = NewDisposeScope();
        using var q = new QNetwork(network, env.ObservationSpace.Shape, actions, 0);
        return q.parameters().Sum(p => p.numel());
    }

    public NetworkSpec Spec { get; }
    public int Actions { get; }

    /// <summary>The return values of the atoms (one atom of value 1 for a plain Q head).</summary>
    public Tensor Support => support;

    /// <summary>The penultimate features of a batch (for effective rank).</summary>
    public Tensor Features(Tensor observations) => torso.forward(observations);

    /// <summary>Per action, the logits over atoms: [batch, actions, atoms] (for a plain head, the Q-values with atoms = 1).</summary>
    public Tensor Logits(Tensor observations, IList<(string Layer, Tensor Activation)>? activations = null)
    {
        var features = torso.Forward(observations, activations);
        var a = head.forward(features).view(-1, Actions, Spec.Atoms);
        if (value is null) return a;
        var v = value.forward(features).view(-1, 1, Spec.Atoms);
        return v.add(a, one).sub(a.mean([1], keepdim: true));
    }

    /// <summary>Q-values [batch, actions]: the logits themselves, or the mean of the C51 distribution.</summary>
    public override Tensor forward(Tensor observations)
    {
        var logits = Logits(observations);
        return Spec.Atoms == 1 ? logits.squeeze(-1) : (nn.functional.softmax(logits, -1) * support).sum(-1);
    }

    /// <summary>
    /// The hidden layers whose neurons can be recycled, the last one read by the head (both streams when
    /// dueling; a noisy head reads with its means and its noise scales).
    /// </summary>
    public IReadOnlyList<RecyclableLayer> RecyclableLayers() =>
        torso.RecyclableLayers(HeadLayers().SelectMany(layer => NeuronReader.In(layer)).ToList())
            .Select(layer => layer with { Layer = layer.Layer.Initialised(Spec.Initialization) })
            .ToList();

    /// <summary>The head's layers (both streams when dueling): what a reset of the last layer renews.</summary>
    public IReadOnlyList<RenewableLayer> HeadLayers() =>
        (value is null ? [RenewableLayer.Of("head", head)] : new[] { RenewableLayer.Of("head", head), RenewableLayer.Of("value", value) })
            .Select(layer => layer.Initialised(Spec.Initialization))
            .ToList();

    /// <summary>Draws new noise in every noisy layer (no effect without noisy layers).</summary>
    public void ResampleNoise(Generator generator)
    {
        foreach (var layer in modules().OfType<NoisyLinear>()) layer.ResampleNoise(generator);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) scalars.Dispose();
        base.Dispose(disposing);
    }

    private static Torso MakeTorso(NetworkSpec spec, IReadOnlyList<int> shape, Generator generator)
    {
        if (spec.Torso.IsMlp)
        {
            var inputs = shape.Aggregate(1, (n, d) => n * d);
            return new MlpTorso(inputs, spec.MlpHidden ?? [512, 512], spec.Width, spec.DenseLayers, generator);
        }
        if (shape.Count != 3)
            throw new ArgumentException($"the {spec.Torso} network takes [channels, height, width] observations, got [{string.Join(", ", shape)}]");
        return spec.Torso.Tag switch
        {
            Prunerl.Experiments.NetworkKind.Tags.MinAtar => new MinAtarTorso(shape[0], shape[1], shape[2], spec.Width, spec.DenseLayers, spec.DenseWidth, generator),
            Prunerl.Experiments.NetworkKind.Tags.Nature => new NatureTorso(shape[0], shape[1], shape[2], spec.Width, spec.DenseLayers, spec.DenseWidth, generator),
            _ => new ImpalaTorso(shape[0], shape[1], shape[2], spec.Width, spec.DenseLayers, spec.DenseWidth, generator),
        };
    }
}
