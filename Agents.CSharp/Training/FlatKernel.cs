using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Training;

/// <summary>
/// Runs a flat optimizer's whole step as one managed loop over the buffers' memory, on CPU float32
/// tensors: torch's form takes 7-9 in-place ops, each a pass over every weight (and a per-update mask
/// multiply another), while the loop reads each entry once. Work is split over torch's intra-op thread
/// count when the buffers are large; each entry's result does not depend on the split.
/// </summary>
internal static class FlatKernel
{
    /// <summary>Below this many entries per thread a step runs on the calling thread.</summary>
    private const long EntriesPerThread = 1 << 17;

    /// <summary>Whether the loop can run over these tensors: contiguous float32 on the CPU, addressable as one span.</summary>
    public static bool Applies(params ReadOnlySpan<Tensor?> tensors)
    {
        foreach (var t in tensors)
            if (t is not null && (t.device_type != DeviceType.CPU || t.dtype != ScalarType.Float32 || !t.is_contiguous() || t.numel() > int.MaxValue / sizeof(float)))
                return false;
        return true;
    }

    /// <summary>The entries of a tensor for which <see cref="Applies"/> holds, as a span over its memory.</summary>
    public static Span<float> Floats(Tensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.bytes);

    /// <summary>Calls <paramref name="body"/>(start, length) over [0, count) in vector-aligned chunks, one per thread.</summary>
    public static void Run(long count, Action<int, int> body)
    {
        var chunks = (int)Math.Clamp(count / EntriesPerThread, 1, get_num_threads());
        if (chunks == 1)
        {
            body(0, (int)count);
            return;
        }
        var width = Vector<float>.Count;
        var size = (count / chunks + width - 1) / width * width;
        Parallel.For(0, chunks, chunk =>
        {
            var start = chunk * size;
            if (start < count) body((int)start, (int)Math.Min(size, count - start));
        });
    }
}
