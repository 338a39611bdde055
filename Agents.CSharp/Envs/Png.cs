using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Envs;

/// <summary>Writes frames as PNG files (8-bit RGB, no filtering): enough for pictures of environments
/// without a graphics library.</summary>
public static class Png
{
    /// <summary>Writes the PNG to a file atomically: a temporary file beside it, then a rename.</summary>
    public static void Save(Frame frame, string path) => AtomicFile.Write(path, file => Write(frame, file));

    /// <summary>Writes the PNG to a stream.</summary>
    public static void Write(Frame frame, Stream output)
    {
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, frame.Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), frame.Height);
        header[8] = 8; // bits per channel
        header[9] = 2; // colour type: RGB
        WriteChunk(output, "IHDR", header);
        WriteChunk(output, "IDAT", Compress(frame));
        WriteChunk(output, "IEND", []);
    }

    /// <summary>Scanlines, each led by filter type 0 (none), zlib-compressed.</summary>
    private static byte[] Compress(Frame frame)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = frame.Width * 3;
            for (var y = 0; y < frame.Height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(frame.Pixels.Slice(y * row, row));
            }
        }
        return compressed.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var crc = Crc32.Iso;
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Finish(crc.Append(crc.Append(Crc32.Start, typeBytes), data)));
        output.Write(word);
    }
}
