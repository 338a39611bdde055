using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Agents;

/// <summary>
/// DrQ's image augmentation (Kostrikov, Yarats, Fergus 2020, "Image augmentation is all you need") as
/// Dopamine's labs/atari_100k applies it to replayed batches (drq_image_augmentation): each sample of a
/// batch [B, C, H, W] is padded by <c>padding</c> pixels on every side, replicating its edge pixels, and
/// cropped back to H x W at a uniformly random offset (the same for all its channels: a frame stack or
/// MinAtar's object channels move together), then multiplied by 1 + scale * clip(z, -2, 2), z ~ N(0, 1),
/// drawn per sample (Dopamine's intensity augmentation). Offsets range over all 2 padding + 1 positions
/// per axis, as the PyTorch reference's random crop of the padded frame (Dopamine's jax.random.randint
/// leaves out the last one).
/// </summary>
/// <remarks>
/// A crop of the replicate-padded frame at offset (dy, dx) reads pixel (clamp(i + dy - p), clamp(j + dx - p))
/// of the frame, so the whole augmentation is one gather with indices from a table built once, one row per
/// offset pair: a random row per sample, no padded copy. The Scalars its ops take are its own (<see cref="OwnedScalars"/>).
/// </remarks>
public sealed class RandomShift : IDisposable, ICheckpointable
{
    private readonly long channels, height, width;
    private readonly double intensityScale;
    private readonly Generator generator;
    /// <summary>[(2p + 1)^2, H * W]: for each offset pair, the flat source pixel of each output pixel.</summary>
    private readonly Tensor sources;
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one, lowest, highest, scale;

    /// <param name="observationShape">One observation's shape, [channels, height, width].</param>
    /// <param name="padding">Pixels of replicate padding (the largest shift); 0 for no shift.</param>
    /// <param name="intensityScale">Scale of the intensity noise, in [0, 0.5); 0 for none.</param>
    /// <param name="seed">Seed of the offsets and the noise.</param>
    public RandomShift(IReadOnlyList<int> observationShape, int padding, double intensityScale, ulong seed)
    {
        if (observationShape.Count != 3)
            throw new ArgumentException($"augmentation shifts [channels, height, width] observations, got [{string.Join(", ", observationShape)}]", nameof(observationShape));
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), $"shift_padding must be >= 0, got {padding}");
        if (!(intensityScale >= 0 && intensityScale < 0.5))
            throw new ArgumentOutOfRangeException(nameof(intensityScale), $"intensity_scale must be in [0, 0.5), got {intensityScale}");
        (channels, height, width) = (observationShape[0], observationShape[1], observationShape[2]);
        Padding = padding;
        this.intensityScale = intensityScale;
        generator = new Generator(seed);
        sources = tensor(SourceTable(padding, (int)height, (int)width), [(2L * padding + 1) * (2L * padding + 1), height * width])
            .DetachFromDisposeScope();
        one = scalars.Of(1.0);
        lowest = scalars.Of(-2.0);
        highest = scalars.Of(2.0);
        scale = scalars.Of(intensityScale);
    }

    /// <summary>Pixels of replicate padding: the largest shift along each axis.</summary>
    public int Padding { get; }

    /// <summary>Offset pairs a sample may take: (2 padding + 1)^2.</summary>
    public long Offsets => sources.shape[0];

    /// <summary>The batch [B, C, H, W] with every sample shifted and scaled at random (a new tensor).</summary>
    public Tensor Apply(Tensor batch)
    {
        var b = batch.shape[0];
        if (batch.dim() != 4 || batch.shape[1] != channels || batch.shape[2] != height || batch.shape[3] != width)
            throw new ArgumentException($"expected a batch [B, {channels}, {height}, {width}], got [{string.Join(", ", batch.shape)}]", nameof(batch));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pairs = randint(0, Offsets, [b], dtype: ScalarType.Int64, generator: generator);
        var index = sources.index_select(0, pairs).to(batch.device).unsqueeze(1).expand(b, channels, height * width);
        var shifted = batch.reshape(b, channels, height * width).gather(2, index).view(b, channels, height, width);
        if (intensityScale > 0)
        {
            var factor = randn([b, 1, 1, 1], generator: generator).clamp_(lowest, highest).mul_(scale).add_(one, one);
            shifted = shifted.mul_(factor.to(batch.device));
        }
        return scope.MoveToOuter(shifted);
    }

    /// <summary>Row k = (dy, dx) = (k / (2p + 1), k mod (2p + 1)): output pixel (i, j) reads (clamp(i + dy - p), clamp(j + dx - p)).</summary>
    private static long[] SourceTable(int padding, int height, int width)
    {
        var side = 2 * padding + 1;
        var table = new long[side * side * height * width];
        var at = 0;
        for (var dy = 0; dy < side; dy++)
        for (var dx = 0; dx < side; dx++)
        for (var i = 0; i < height; i++)
        for (var j = 0; j < width; j++)
            table[at++] = Math.Clamp(i + dy - padding, 0, height - 1) * (long)width + Math.Clamp(j + dx - padding, 0, width - 1);
        return table;
    }

    /// <summary>Writes the generator of offsets and noise (its only state).</summary>
    public void Save(StateWriter writer) => writer.Write(generator);

    public void Load(StateReader reader) => reader.ReadInto(generator);

    public void Dispose()
    {
        generator.Dispose();
        sources.Dispose();
        scalars.Dispose();
    }
}
