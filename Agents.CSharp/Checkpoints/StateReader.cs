using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Checkpoints;

/// <summary>
/// Reads what a <see cref="StateWriter"/> wrote, from a stream of known length, checking as it goes: a
/// read past the end, a span or tensor of another size, dtype or shape is a <see cref="CheckpointException"/>
/// naming where the state came from.
/// </summary>
public sealed class StateReader
{
    private readonly Stream stream;
    private readonly string source;
    private long remaining;

    /// <param name="stream">Positioned at the state's first byte.</param>
    /// <param name="length">The state's length in bytes.</param>
    /// <param name="source">Where the state comes from, for messages (a file and section).</param>
    internal StateReader(Stream stream, long length, string source)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("checkpoints are read on little-endian machines only");
        this.stream = stream;
        this.source = source;
        remaining = length;
    }

    /// <summary>A one-line error naming where the state came from.</summary>
    public CheckpointException Problem(string what) => new($"{source}: {what}");

    public bool ReadBoolean()
    {
        Span<byte> bytes = stackalloc byte[1];
        ReadBytes(bytes);
        return bytes[0] switch
        {
            0 => false,
            1 => true,
            _ => throw Problem($"a flag holds {bytes[0]}, not 0 or 1"),
        };
    }

    public int ReadInt32()
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        ReadBytes(bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    public long ReadInt64()
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        ReadBytes(bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    public ulong ReadUInt64()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        ReadBytes(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    public float ReadSingle()
    {
        Span<byte> bytes = stackalloc byte[sizeof(float)];
        ReadBytes(bytes);
        return BinaryPrimitives.ReadSingleLittleEndian(bytes);
    }

    public double ReadDouble()
    {
        Span<byte> bytes = stackalloc byte[sizeof(double)];
        ReadBytes(bytes);
        return BinaryPrimitives.ReadDoubleLittleEndian(bytes);
    }

    public string ReadString()
    {
        var bytes = new byte[ReadCount(1)];
        ReadBytes(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Reads a span written with <see cref="StateWriter.Write{T}"/> into one of exactly its length.</summary>
    public void ReadInto<T>(Span<T> into) where T : unmanaged
    {
        var count = ReadInt32();
        if (count != into.Length) throw Problem($"holds {count} {typeof(T).Name} values where {into.Length} are expected");
        ReadBytes(MemoryMarshal.AsBytes(into));
    }

    /// <summary>Reads a span written with <see cref="StateWriter.Write{T}"/> whose length is part of the state.</summary>
    public T[] ReadArray<T>() where T : unmanaged
    {
        var values = new T[ReadCount(Unsafe.SizeOf<T>())];
        ReadBytes(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    /// <summary>A random stream's position.</summary>
    public EnvRandom ReadRandom() => EnvRandom.FromState(ReadUInt64(), ReadUInt64(), ReadUInt64(), ReadUInt64());

    /// <summary>Reads a tensor's values into <paramref name="target"/>, which must have its dtype and shape.</summary>
    public void ReadInto(Tensor target)
    {
        var dtype = (ScalarType)ReadInt32();
        var shape = ReadArray<long>();
        if (dtype != target.dtype || !shape.AsSpan().SequenceEqual(target.shape))
            throw Problem($"holds a {dtype} tensor of shape [{string.Join(", ", shape)}] where a {target.dtype} one of shape [{string.Join(", ", target.shape)}] is expected");
        using var scope = NewDisposeScope();
        var values = empty(shape, dtype);
        ReadBytes(values.bytes);
        using var _ = no_grad();
        target.copy_(values);
    }

    /// <summary>Restores a torch generator's state.</summary>
    public void ReadInto(Generator generator)
    {
        using var state = generator.get_state();
        ReadInto(state);
        generator.set_state(state);
    }

    /// <summary>Throws unless every byte of the state has been read (a layout that does not match the reader's).</summary>
    internal void ExpectEnd()
    {
        if (remaining != 0) throw Problem($"{remaining} bytes were left unread: the state was written by another layout");
    }

    /// <summary>A length prefix, checked against the bytes that are left.</summary>
    private int ReadCount(int size)
    {
        var count = ReadInt32();
        if (count < 0 || (long)count * size > remaining)
            throw Problem($"a length of {count} does not fit in the {remaining} bytes left (truncated, or another layout)");
        return count;
    }

    private void ReadBytes(Span<byte> into)
    {
        if (into.Length > remaining) throw Problem("ends early (truncated, or written by another layout)");
        stream.ReadExactly(into);
        remaining -= into.Length;
    }
}
