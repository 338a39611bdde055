using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>A multilayer perceptron with ReLU between its linear layers (the classic-control network).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> layers = new();

    /// <param name="inputs">Input features.</param>
    /// <param name="hidden">Units of each hidden layer.</param>
    /// <param name="outputs">Output units.</param>
    /// <param name="seed">Seed of the initial weights: the same seed gives the same network.</param>
    /// <param name="device">Where the parameters live (CPU when null).</param>
    public Mlp(int inputs, IReadOnlyList<int> hidden, int outputs, long seed, Device? device = null) : base(nameof(Mlp))
    {
        // TorchSharp's initialisers take no generator, so seed torch's own before creating the layers.
        torch.random.manual_seed(seed);
        var sizes = new[] { inputs }.Concat(hidden).Append(outputs).ToArray();
        for (var i = 0; i + 1 < sizes.Length; i++)
            layers.Add(nn.Linear(sizes[i], sizes[i + 1]));
        RegisterComponents();
        if (device is not null) this.to(device);
    }

    public override Tensor forward(Tensor input)
    {
        var x = input;
        for (var i = 0; i < layers.Count; i++)
        {
            x = layers[i].forward(x);
            if (i + 1 < layers.Count) x = nn.functional.relu(x);
        }
        return x;
    }
}
