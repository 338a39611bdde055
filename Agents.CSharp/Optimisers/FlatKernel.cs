using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Optimisers;

/// <summary>
/// Runs a flat optimizer's whole step as one managed loop over the buffers' memory, on CPU tensors:
/// torch's form takes 7-9 in-place ops, each a pass over every weight (and a pruning mask multiply
/// another), while the loop reads each entry once. A keep mask is read as bytes, a quarter of the traffic
/// of a float mask. It runs on the calling thread: split over a second thread it was slower, that core
/// being busy with torch's own worker, which spins between ops.
/// </summary>
internal static class FlatKernel
{
    /// <summary>One optimizer's arithmetic for a vector of entries and for a single entry.</summary>
    public interface IEntries
    {
        /// <summary>Steps the <see cref="Vector{T}.Count"/> entries from <paramref name="at"/>, each gradient multiplied by <paramref name="keep"/>.</summary>
        void Vector(nuint at, Vector<float> keep);

        /// <summary>Steps entry <paramref name="at"/>, its gradient multiplied by <paramref name="keep"/>.</summary>
        void Scalar(int at, float keep);
    }

    /// <summary>
    /// Whether the loop can run over these tensors: contiguous float32 buffers and a uint8 keep mask (or
    /// none) on the CPU, each addressable as one span.
    /// </summary>
    public static bool Applies(Tensor? keep, params ReadOnlySpan<Tensor?> buffers)
    {
        foreach (var t in buffers)
            if (t is not null && !Addressable(t, ScalarType.Float32)) return false;
        return keep is null || Addressable(keep, ScalarType.Byte);
    }

    private static bool Addressable(Tensor t, ScalarType type) =>
        t.device_type == DeviceType.CPU && t.dtype == type && t.is_contiguous() && t.numel() <= int.MaxValue / sizeof(float);

    /// <summary>The entries of a float32 tensor for which <see cref="Applies"/> holds, over its memory.</summary>
    public static Span<float> Floats(Tensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.bytes);

    /// <summary>The entries of a keep mask, or an empty span without one.</summary>
    public static ReadOnlySpan<byte> Bytes(Tensor? keep) => keep is null ? default : keep.bytes;

    /// <summary>
    /// Steps entries [0, length) of <paramref name="entries"/>: whole vectors, a keep mask's bytes widened
    /// to four float vectors at a time, then the rest one by one. Without a mask every keep is 1.
    /// </summary>
    public static void Sweep<TEntries>(ref TEntries entries, int length, ReadOnlySpan<byte> keep)
        where TEntries : IEntries, allows ref struct
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            if (keep.IsEmpty)
                for (; i <= length - width; i += width) entries.Vector((nuint)i, Vector<float>.One);
            else
                for (; i <= length - Vector<byte>.Count; i += Vector<byte>.Count)
                {
                    var bytes = System.Numerics.Vector.LoadUnsafe(ref MemoryMarshal.GetReference(keep), (nuint)i);
                    System.Numerics.Vector.Widen(bytes, out var low, out var high);
                    System.Numerics.Vector.Widen(low, out var k0, out var k1);
                    System.Numerics.Vector.Widen(high, out var k2, out var k3);
                    entries.Vector((nuint)i, AsFloats(k0));
                    entries.Vector((nuint)(i + width), AsFloats(k1));
                    entries.Vector((nuint)(i + 2 * width), AsFloats(k2));
                    entries.Vector((nuint)(i + 3 * width), AsFloats(k3));
                }
        }
        for (; i < length; i++) entries.Scalar(i, keep.IsEmpty ? 1f : keep[i]);
    }

    private static Vector<float> AsFloats(Vector<uint> keep) => System.Numerics.Vector.ConvertToSingle(System.Numerics.Vector.AsVectorInt32(keep));
}
