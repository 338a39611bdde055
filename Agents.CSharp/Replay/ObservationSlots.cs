using System.Numerics;
using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Replay;

/// <summary>Fixed-size observations in numbered slots of one flat array, as floats or as 0/1 bytes.</summary>
internal sealed class ObservationSlots
{
    private readonly float[]? floats;
    private readonly byte[]? bits;
    private readonly int size;

    public ObservationSlots(int slots, int size, ObservationStorage storage)
    {
        this.size = size;
        if (storage == ObservationStorage.Binary) bits = new byte[slots * size];
        else floats = new float[slots * size];
    }

    /// <summary>Throws when binary storage is given a value other than 0 or 1.</summary>
    public void CheckStorable(ReadOnlySpan<float> values, string parameter)
    {
        if (bits is null) return;
        var at = values.IndexOfAnyExcept(0f, 1f);
        if (at >= 0)
            throw new ArgumentException($"binary observation storage holds 0/1 values only, got {values[at]} at position {at}", parameter);
    }

    public void Save(StateWriter writer)
    {
        if (bits is null) writer.Write<float>(floats);
        else writer.Write<byte>(bits);
    }

    public void Load(StateReader reader)
    {
        if (bits is null) reader.ReadInto<float>(floats);
        else reader.ReadInto<byte>(bits);
    }

    public void Write(int slot, ReadOnlySpan<float> observation)
    {
        if (bits is null)
        {
            observation.CopyTo(floats.AsSpan(slot * size, size));
            return;
        }
        var target = bits.AsSpan(slot * size, size);
        for (var i = 0; i < target.Length; i++) target[i] = (byte)observation[i];
    }

    public void Read(int slot, Span<float> into)
    {
        if (bits is null)
        {
            floats.AsSpan(slot * size, size).CopyTo(into);
            return;
        }
        Widen(bits.AsSpan(slot * size, size), into);
    }

    /// <summary>Bytes to floats, a vector at a time (sampling reads two observations per row).</summary>
    private static void Widen(ReadOnlySpan<byte> source, Span<float> into)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<byte>.Count, quarter = Vector<uint>.Count;
            for (; i <= source.Length - width; i += width)
            {
                Vector.Widen(new Vector<byte>(source[i..]), out var low, out var high);
                Vector.Widen(low, out var first, out var second);
                Vector.Widen(high, out var third, out var fourth);
                Vector.ConvertToSingle(first).CopyTo(into[i..]);
                Vector.ConvertToSingle(second).CopyTo(into[(i + quarter)..]);
                Vector.ConvertToSingle(third).CopyTo(into[(i + 2 * quarter)..]);
                Vector.ConvertToSingle(fourth).CopyTo(into[(i + 3 * quarter)..]);
            }
        }
        for (; i < source.Length; i++) into[i] = source[i];
    }
}
