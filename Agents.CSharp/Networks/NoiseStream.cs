using Prunerl.Agents.Checkpoints;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>
/// The seeded stream a noisy agent draws its networks' noise from (Fortunato et al. 2018): a fresh draw
/// before every forward pass that acts or learns, the online and target networks drawing in turn from the
/// one stream, so each pass has noise independent of the others. Its generator is its whole state, saved
/// in checkpoints so that a resumed run draws the same noise as the uninterrupted one.
/// </summary>
public sealed class NoiseStream : IDisposable, ICheckpointable
{
    private readonly Generator generator;

    public NoiseStream(ulong seed) => generator = new Generator(seed);

    /// <summary>Draws new noise into every noisy layer of the network.</summary>
    public void Redraw(QNetwork network) => network.ResampleNoise(generator);

    public void Save(StateWriter writer) => writer.Write(generator);

    public void Load(StateReader reader) => reader.ReadInto(generator);

    public void Dispose() => generator.Dispose();
}
