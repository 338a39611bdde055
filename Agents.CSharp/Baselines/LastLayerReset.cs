using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Networks;
using static TorchSharp.torch;

namespace Prunerl.Agents.Baselines;

/// <summary>
/// Resets (Nikishin, Schwarzer, D'Oro, Bacon, Courville 2022, "The primacy bias in deep reinforcement
/// learning"): gives the last layers of the network fresh initial values, keeping everything else (and the
/// replay memory). One layer is the head (both streams when dueling); two adds the torso's last layer. A noisy
/// layer gets fresh means and its noise scales back to their initial value (as SPR's resets re-initialise
/// its noisy head).
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
        var renewed = layers == 2 ? network.HeadLayers().Append(network.RecyclableLayers()[^1].Layer) : network.HeadLayers();
        foreach (var layer in renewed)
        {
            FreshWeights.Draw(layer, null, generator, renewal);
            renewal.Layers.Add((layer.Name, layer.Neurons));
        }
        return renewal;
    }

    /// <summary>Writes the generator of fresh weights (its only state).</summary>
    public void Save(StateWriter writer) => writer.Write(generator);

    public void Load(StateReader reader) => reader.ReadInto(generator);

    public void Dispose() => generator.Dispose();
}
