using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Training;

/// <summary>Where a run's scalar metrics go as they are measured.</summary>
public interface IMetricsSink
{
    /// <summary>Records one value of a named metric at an agent step.</summary>
    void Write(long step, string name, double value);
}

/// <summary>
/// A run's metrics on disk as it trains, in three forms for people and scripts: <c>metrics.csv</c>
/// (step,metric,value), <c>metrics.jsonl</c> (one object per value), and a TensorBoard event file
/// (<c>events.out.tfevents.*</c>: scalar summaries). Each line or record is appended whole and flushed,
/// so an interrupted run leaves every earlier value readable.
/// </summary>
public sealed class MetricsLog : IMetricsSink, IDisposable
{
    private readonly StreamWriter csv;
    private readonly StreamWriter jsonl;
    private readonly FileStream events;

    /// <summary>Opens the log in <paramref name="directory"/>, which must not hold one already.</summary>
    public MetricsLog(string directory)
    {
        Directory.CreateDirectory(directory);
        if (File.Exists(Path.Combine(directory, "metrics.csv")))
            throw new IOException($"{directory} already holds a run's metrics; choose another directory");
        csv = new StreamWriter(Path.Combine(directory, "metrics.csv"), append: false, new UTF8Encoding(false));
        csv.WriteLine("step,metric,value");
        jsonl = new StreamWriter(Path.Combine(directory, "metrics.jsonl"), append: false, new UTF8Encoding(false));
        var wallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        events = new FileStream(Path.Combine(directory, $"events.out.tfevents.{(long)wallTime}.prunerl"), FileMode.CreateNew);
        WriteRecord(TensorBoardEvents.FileVersion(wallTime));
        Flush();
    }

    public void Write(long step, string name, double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        csv.WriteLine($"{step},{name},{text}");
        jsonl.WriteLine($"{{\"step\":{step},\"metric\":\"{name}\",\"value\":{(double.IsFinite(value) ? text : "null")}}}");
        WriteRecord(TensorBoardEvents.Scalar(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, step, name, (float)value));
        Flush();
    }

    /// <summary>A TFRecord: length, masked CRC32C of the length, data, masked CRC32C of the data.</summary>
    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], TensorBoardEvents.MaskedCrc(header[..8]));
        events.Write(header);
        events.Write(data);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, TensorBoardEvents.MaskedCrc(data));
        events.Write(footer);
    }

    private void Flush()
    {
        csv.Flush();
        jsonl.Flush();
        events.Flush();
    }

    public void Dispose()
    {
        csv.Dispose();
        jsonl.Dispose();
        events.Dispose();
    }
}

/// <summary>
/// The pieces of TensorBoard's event format the log writes: Event protocol buffers (wall_time = 1,
/// step = 2, file_version = 3, summary = 5; Summary.value = 1; Value.tag = 1, simple_value = 2), framed as
/// TFRecords with CRC32C (Castagnoli) checksums masked as TensorFlow masks them.
/// </summary>
public static class TensorBoardEvents
{
    /// <summary>The first event of a file: its format version.</summary>
    public static byte[] FileVersion(double wallTime)
    {
        using var buffer = new MemoryStream();
        WriteDouble(buffer, 1, wallTime);
        WriteBytes(buffer, 3, Encoding.UTF8.GetBytes("brain.Event:2"));
        return buffer.ToArray();
    }

    /// <summary>An event holding one scalar summary.</summary>
    public static byte[] Scalar(double wallTime, long step, string tag, float value)
    {
        using var summaryValue = new MemoryStream();
        WriteBytes(summaryValue, 1, Encoding.UTF8.GetBytes(tag));
        summaryValue.WriteByte(2 << 3 | 5);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(word, value);
        summaryValue.Write(word);
        using var summary = new MemoryStream();
        WriteBytes(summary, 1, summaryValue.ToArray());
        using var @event = new MemoryStream();
        WriteDouble(@event, 1, wallTime);
        @event.WriteByte(2 << 3 | 0);
        WriteVarint(@event, (ulong)step);
        WriteBytes(@event, 5, summary.ToArray());
        return @event.ToArray();
    }

    /// <summary>CRC32C of the data, rotated right by 15 bits plus 0xa282ead8 (TensorFlow's masked CRC).</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = Crc32.Castagnoli.Compute(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    private static void WriteDouble(Stream s, int field, double value)
    {
        s.WriteByte((byte)(field << 3 | 1));
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        s.Write(bytes);
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        s.WriteByte((byte)(field << 3 | 2));
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }
}
