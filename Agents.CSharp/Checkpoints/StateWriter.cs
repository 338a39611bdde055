using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Checkpoints;

/// <summary>
/// Writes state as little-endian binary: numbers, strings, length-prefixed spans of unmanaged values,
/// random streams, tensors (dtype, shape, then the values) and torch generators. It keeps the CRC-32
/// (ISO) and the length of everything it wrote, which a checkpoint stores with each section.
/// </summary>
public sealed class StateWriter
{
    private readonly Stream stream;
    private uint crc = Crc32.Start;

    internal StateWriter(Stream stream)
    {
        // Spans of values are written as their memory: the format is little-endian.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("checkpoints are written on little-endian machines only");
        this.stream = stream;
    }

    /// <summary>Bytes written so far.</summary>
    public long Length { get; private set; }

    /// <summary>The CRC-32 of the bytes written so far.</summary>
    internal uint Checksum => Crc32.Finish(crc);

    public void Write(bool value) => WriteBytes([value ? (byte)1 : (byte)0]);

    public void Write(int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    public void Write(long value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    public void Write(ulong value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    public void Write(float value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(float)];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    public void Write(double value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(double)];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    /// <summary>A string as its UTF-8 length and bytes.</summary>
    public void Write(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Write(bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>A span of values as its length and its memory.</summary>
    public void Write<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        Write(values.Length);
        WriteBytes(MemoryMarshal.AsBytes(values));
    }

    /// <summary>A random stream's position.</summary>
    public void Write(in EnvRandom random)
    {
        var (s0, s1, s2, s3) = random.State;
        Write(s0);
        Write(s1);
        Write(s2);
        Write(s3);
    }

    /// <summary>A tensor's dtype, shape and values (copied to the CPU first when it lives elsewhere).</summary>
    public void Write(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var values = tensor.detach().cpu().contiguous();
        Write((int)values.dtype);
        Write<long>(values.shape);
        WriteBytes(values.bytes);
    }

    /// <summary>A torch generator's state (for the CPU generator, its Mersenne twister and normal cache).</summary>
    public void Write(Generator generator)
    {
        using var state = generator.get_state();
        Write(state);
    }

    internal void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        crc = Crc32.Iso.Append(crc, bytes);
        stream.Write(bytes);
        Length += bytes.Length;
    }
}
