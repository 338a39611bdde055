namespace Prunerl.Agents.Runtime;

/// <summary>
/// Table-driven CRC-32 over a reflected polynomial: ISO 3309 for PNG chunks, Castagnoli (CRC-32C) for
/// TensorBoard's records. A checksum starts at <see cref="Start"/>, takes data with <see cref="Append"/>,
/// and ends with <see cref="Finish"/>.
/// </summary>
internal sealed class Crc32
{
    /// <summary>CRC-32 of ISO 3309 / ITU-T V.42 (PNG, zlib).</summary>
    public static readonly Crc32 Iso = new(0xEDB88320u);

    /// <summary>CRC-32C (Castagnoli), as TFRecord framing uses.</summary>
    public static readonly Crc32 Castagnoli = new(0x82F63B78u);

    public const uint Start = 0xFFFFFFFFu;

    private readonly uint[] table = new uint[256];

    private Crc32(uint polynomial)
    {
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? polynomial ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
    }

    public uint Append(uint state, ReadOnlySpan<byte> data)
    {
        foreach (var b in data) state = table[(state ^ b) & 0xFF] ^ (state >> 8);
        return state;
    }

    public static uint Finish(uint state) => state ^ 0xFFFFFFFFu;

    /// <summary>The checksum of the data.</summary>
    public uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));
}
