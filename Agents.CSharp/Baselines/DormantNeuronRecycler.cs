using Prunerl.Agents.Analysis;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Baselines;

/// <summary>
/// ReDo (Sokar, Agarwal, Castro, Evci 2023): finds the tau-dormant neurons of each recyclable layer on a
/// batch, gives their incoming weights fresh initial values and sets their outgoing weights to zero, so the
/// network's function is unchanged at that moment but the neurons can learn again. In a noisy layer the
/// incoming means are drawn afresh and the noise scales set back to their initial value, and a noisy reader's
/// means and noise scales are both zeroed (so its noise does not carry the recycled neuron either). The output layer is
/// never recycled; in the Impala ResNet only each block's first convolution and the dense layer are.
/// The returned renewal names every rewritten entry, for resetting the optimizer's moments there.
/// </summary>
public sealed class DormantNeuronRecycler : IDisposable, ICheckpointable
{
    private readonly double tau;
    private readonly Generator generator;

    /// <param name="tau">Dormancy threshold on the normalised score (the ReDo paper uses 0.025 for DQN; 0.1 for its Atari sweeps).</param>
    /// <param name="seed">Seed of the fresh weights.</param>
    public DormantNeuronRecycler(double tau, ulong seed)
    {
        if (!(tau >= 0)) throw new ArgumentOutOfRangeException(nameof(tau), $"tau must be >= 0, got {tau}");
        this.tau = tau;
        generator = new Generator(seed);
    }

    /// <summary>Recycles the network's dormant neurons as measured on <paramref name="batch"/>.</summary>
    public Renewal Recycle(QNetwork network, Tensor batch)
    {
        var renewal = new Renewal();
        using var scope = NewDisposeScope();
        using var scalars = new OwnedScalars();
        var (zero, one) = (scalars.Of(0), scalars.Of(1));
        var activations = new List<(string Layer, Tensor Activation)>();
        using (no_grad()) network.Logits(batch, activations);
        var byName = activations.ToDictionary(a => a.Layer, a => a.Activation);
        foreach (var layer in network.RecyclableLayers())
        {
            var dormant = NetworkAnalysis.Dormant(byName[layer.Name], tau);
            var count = (int)dormant.sum().item<long>();
            renewal.Layers.Add((layer.Name, count));
            if (count == 0) continue;
            FreshWeights.Draw(layer.Layer, dormant, generator, renewal);
            using var _ = no_grad();
            foreach (var reader in layer.Readers)
            {
                // Entry k along the reader's dimension belongs to neuron k / block.
                // arange(n) as TorchSharp's one-argument form calls it, arange(0, n, 1), with Scalars held here.
                var owner = arange(zero, scalars.Of(reader.Weight.shape[reader.Dimension]), one, device: dormant.device)
                    .div(scalars.Of(reader.Block), rounding_mode: RoundingMode.floor);
                var shape = Enumerable.Repeat(1L, (int)reader.Weight.dim()).ToArray();
                shape[reader.Dimension] = -1;
                var readsDormant = dormant.index_select(0, owner).view(shape);
                reader.Weight.masked_fill_(readsDormant, zero);
                renewal.Add(reader.Weight, readsDormant);
            }
        }
        return renewal;
    }

    /// <summary>Writes the generator of fresh weights (its only state).</summary>
    public void Save(StateWriter writer) => writer.Write(generator);

    public void Load(StateReader reader) => reader.ReadInto(generator);

    public void Dispose() => generator.Dispose();
}
