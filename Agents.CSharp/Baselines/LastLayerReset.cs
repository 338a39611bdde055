using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Networks;
using static TorchSharp.torch;

namespace Prunerl.Agents.Baselines;

/// <summary>
/// Resets (Nikishin, Schwarzer, D'Oro, Bacon, Courville 2022, "The primacy bias in deep reinforcement
/// learning"): gives the last layers of the network fresh initial values, keeping everything else (and the
/// replay memory). One layer is the head (both streams when dueling); two adds the torso's last layer.
/// </summary>
public sealed class LastLayerReset : IDisposable, ICheckpointable
{
    private readonly int layers;
    private readonly Generator generator;

    public LastLayerReset(int layers, ulong seed)
    {
        if (layers is < 1 or > 2) throw new ArgumentOutOfRangeException(nameof(layers), $"reset_layers must be 1 or 2, got {layers}");
        this.layers = layers;
        generator = new Generator(seed);
    }

    /// <summary>Resets the last layers of the network.</summary>
    public Renewal Reset(QNetwork network)
    {
        var renewal = new Renewal();
        foreach (var (weight, bias) in network.HeadLayers())
            FreshWeights.Draw(weight, bias, null, generator, renewal);
        if (layers == 2)
        {
            var last = network.RecyclableLayers()[^1];
            FreshWeights.Draw(last.IncomingWeight, last.IncomingBias, null, generator, renewal);
        }
        return renewal;
    }

    /// <summary>Writes the generator of fresh weights (its only state).</summary>
    public void Save(StateWriter writer) => writer.Write(generator);

    public void Load(StateReader reader) => reader.ReadInto(generator);

    public void Dispose() => generator.Dispose();
}
