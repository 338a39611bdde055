using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Prunerl.Agents.Runtime;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>Where a run's scalar metrics go as they are measured.</summary>
public interface IMetricsSink
{
    /// <summary>Records one value of a named metric at an agent step.</summary>
    void Write(long step, string name, double value);

    /// <summary>
    /// Records a detail that a run's recorded metrics.csv does not hold (each evaluation episode's return, the
    /// training epsilon): a log keeps it beside the other values (metrics.jsonl, TensorBoard) but out of
    /// metrics.csv, whose bytes recorded runs pin.
    /// </summary>
    void WriteDetail(long step, string name, double value);
}

/// <summary>One file of a metrics log and its length in bytes at some point.</summary>
public readonly record struct MetricsFileMark(string File, long Length);

/// <summary>
/// A metrics sink whose output can be cut back to an earlier point, so that a run resumed from a
/// checkpoint rewrites exactly what followed it and its log ends up as an uninterrupted run's.
/// </summary>
public interface IRewindableMetrics : IMetricsSink
{
    /// <summary>Where the output stands now, everything written flushed: each file's name and length.</summary>
    IReadOnlyList<MetricsFileMark> Mark();

    /// <summary>
    /// Cuts the output back to an earlier <see cref="Mark"/>; an IOException, with nothing cut, when the
    /// mark names other files or a file is now shorter than it says.
    /// </summary>
    void Rewind(IReadOnlyList<MetricsFileMark> mark);
}

/// <summary>
/// A run's metrics on disk as it trains, in three forms for people and scripts: <c>metrics.csv</c>
/// (step,metric,value), <c>metrics.jsonl</c> (one object per value, and the details metrics.csv leaves out:
/// <see cref="WriteDetail"/>), and a TensorBoard event file (<c>events.out.tfevents.&lt;time&gt;.&lt;host name&gt;</c>,
/// TensorBoard's own naming: scalar summaries, the details, the wall-clock speed (<see cref="WriteWallClock"/>)
/// and the run's hyperparameters for TensorBoard's HParams view (<see cref="WriteHyperparameters"/>)). Each
/// line or record is appended whole and flushed, so an interrupted run leaves every earlier value readable.
/// <see cref="Reopen"/> continues the log of an interrupted run (whichever host wrote it), which
/// <see cref="Rewind"/> first cuts back to its last checkpoint.
/// </summary>
public sealed class MetricsLog : IRewindableMetrics, IDisposable
{
    private const string CsvName = RunFormat.MetricsCsv, JsonlName = RunFormat.MetricsJsonl, EventsPattern = RunFormat.EventsPattern;

    /// <summary>
    /// The event file's name for a wall time in seconds: <c>events.out.tfevents.&lt;whole seconds&gt;.&lt;host name&gt;</c>,
    /// as TensorFlow's and TensorBoard's writers name theirs (tools that list runs by host read the suffix).
    /// </summary>
    public static string EventsFileName(double wallTime) =>
        string.Create(CultureInfo.InvariantCulture, $"events.out.tfevents.{(long)wallTime}.{HostName()}");

    /// <summary>This machine's host name as the event file's suffix; characters a file name cannot hold as '_'.</summary>
    public static string HostName()
    {
        string name;
        try { name = System.Net.Dns.GetHostName(); }
        catch (System.Net.Sockets.SocketException) { name = Environment.MachineName; }
        if (string.IsNullOrWhiteSpace(name)) name = "localhost";
        var invalid = Path.GetInvalidFileNameChars();
        return new string(name.Trim().Select(c => Array.IndexOf(invalid, c) >= 0 ? '_' : c).ToArray());
    }

    private readonly StreamWriter csv;
    private readonly StreamWriter jsonl;
    private readonly FileStream events;

    /// <summary>Opens the log in <paramref name="directory"/>, which must not hold one already.</summary>
    public MetricsLog(string directory) : this(CreateFiles(directory, out var wallTime))
    {
        csv.WriteLine("step,metric,value");
        WriteRecord(TensorBoardEvents.FileVersion(wallTime));
        Flush();
    }

    private MetricsLog((FileStream Csv, FileStream Jsonl, FileStream Events) files)
    {
        csv = new StreamWriter(files.Csv, new UTF8Encoding(false));
        jsonl = new StreamWriter(files.Jsonl, new UTF8Encoding(false));
        events = files.Events;
    }

    /// <summary>
    /// Opens the log an earlier run left in <paramref name="directory"/> to append to it, changing nothing
    /// in it yet (an IOException when there is none); a resumed run then rewinds it to its checkpoint.
    /// </summary>
    public static MetricsLog Reopen(string directory)
    {
        if (!File.Exists(Path.Combine(directory, CsvName)))
            throw new IOException($"{directory} holds no run's metrics to continue (no {CsvName})");
        var eventFiles = Directory.GetFiles(directory, EventsPattern);
        if (eventFiles.Length != 1)
            throw new IOException($"{directory} holds {eventFiles.Length} TensorBoard event files ({EventsPattern}); a run's log has one");
        var opened = new List<FileStream>();
        try
        {
            foreach (var path in new[] { Path.Combine(directory, CsvName), Path.Combine(directory, JsonlName), eventFiles[0] })
            {
                var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                opened.Add(file);
                file.Seek(0, SeekOrigin.End);
            }
        }
        catch
        {
            foreach (var file in opened) file.Dispose();
            throw;
        }
        return new MetricsLog((opened[0], opened[1], opened[2]));
    }

    public IReadOnlyList<MetricsFileMark> Mark()
    {
        Flush();
        return Files().Select(f => new MetricsFileMark(Path.GetFileName(f.Name), f.Length)).ToList();
    }

    public void Rewind(IReadOnlyList<MetricsFileMark> mark)
    {
        Flush();
        var files = Files();
        if (mark.Count != files.Count)
            throw new IOException($"the mark names {mark.Count} metrics files where the log has {files.Count}");
        for (var i = 0; i < files.Count; i++)
        {
            var name = Path.GetFileName(files[i].Name);
            if (mark[i].File != name) throw new IOException($"the mark names {mark[i].File} where the log has {name}");
            if (files[i].Length < mark[i].Length)
                throw new IOException($"{name} holds {files[i].Length} bytes, fewer than the {mark[i].Length} it held at the checkpoint");
        }
        for (var i = 0; i < files.Count; i++)
        {
            files[i].SetLength(mark[i].Length);
            files[i].Seek(0, SeekOrigin.End);
        }
    }

    private static (FileStream, FileStream, FileStream) CreateFiles(string directory, out double wallTime)
    {
        Directory.CreateDirectory(directory);
        if (File.Exists(Path.Combine(directory, CsvName)))
            throw new IOException($"{directory} already holds a run's metrics; choose another directory");
        wallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        return (new FileStream(Path.Combine(directory, CsvName), FileMode.Create),
            new FileStream(Path.Combine(directory, JsonlName), FileMode.Create),
            new FileStream(Path.Combine(directory, EventsFileName(wallTime)), FileMode.CreateNew));
    }

    private List<FileStream> Files() => [(FileStream)csv.BaseStream, (FileStream)jsonl.BaseStream, events];

    public void Write(long step, string name, double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        csv.WriteLine($"{step},{name},{text}");
        WriteDetail(step, name, value);
    }

    public void WriteDetail(long step, string name, double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        jsonl.WriteLine($"{{\"step\":{step},\"metric\":\"{name}\",\"value\":{(double.IsFinite(value) ? text : "null")}}}");
        WriteWallClock(step, name, value);
    }

    /// <summary>
    /// Records a value measured on the wall clock (agent steps per second), which differs from one
    /// execution to the next: in the TensorBoard file alone, so metrics.csv and metrics.jsonl stay the
    /// same for the same run.
    /// </summary>
    public void WriteWallClock(long step, string name, double value)
    {
        WriteRecord(TensorBoardEvents.Scalar(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, step, name, (float)value));
        Flush();
    }

    /// <summary>
    /// Records the run's hyperparameters (config.json's fields; values strings, numbers or booleans, nulls left
    /// out) as TensorBoard's HParams plugin reads them: one session-start summary
    /// (<see cref="TensorBoardEvents.SessionStart"/>), so runs can be compared in its HParams view.
    /// </summary>
    public void WriteHyperparameters(IEnumerable<KeyValuePair<string, object>> hyperparameters)
    {
        WriteRecord(TensorBoardEvents.SessionStart(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, hyperparameters));
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

    /// <summary>The tag of the HParams plugin's session-start summary (tensorboard/plugins/hparams/metadata.py, SESSION_START_INFO_TAG).</summary>
    public const string SessionStartTag = "_hparams_/session_start_info";

    /// <summary>
    /// An event holding the HParams plugin's session-start summary: a Summary.Value (tag = 1, metadata = 9)
    /// whose SummaryMetadata.plugin_data (1) names the plugin "hparams" (PluginData.plugin_name = 1) and holds
    /// as content (2) an HParamsPluginData (tensorboard/plugins/hparams/plugin_data.proto: version = 1, 0 here;
    /// session_start_info = 3) whose SessionStartInfo maps each name to a google.protobuf.Value (hparams = 1, a
    /// map: entries of key = 1, value = 2; Value.number_value = 2, string_value = 3, bool_value = 4) and gives
    /// start_time_secs (5). As PyTorch's torch.utils.tensorboard.summary.hparams writes it, without a tensor
    /// (TensorBoard's dataclass_compat supplies the empty one the plugin's summaries carry).
    /// </summary>
    public static byte[] SessionStart(double wallTime, IEnumerable<KeyValuePair<string, object>> hyperparameters)
    {
        using var info = new MemoryStream();
        foreach (var (name, value) in hyperparameters)
        {
            using var protoValue = new MemoryStream();
            switch (value)
            {
                case string text: WriteBytes(protoValue, 3, Encoding.UTF8.GetBytes(text)); break;
                case bool flag:
                    protoValue.WriteByte(4 << 3 | 0);
                    WriteVarint(protoValue, flag ? 1UL : 0UL);
                    break;
                case double number: WriteDouble(protoValue, 2, number); break;
                case null: continue;
                default: throw new ArgumentException($"hyperparameter {name} must be a string, a double or a bool, got {value.GetType().Name}", nameof(hyperparameters));
            }
            using var entry = new MemoryStream();
            WriteBytes(entry, 1, Encoding.UTF8.GetBytes(name));
            WriteBytes(entry, 2, protoValue.ToArray());
            WriteBytes(info, 1, entry.ToArray());
        }
        WriteDouble(info, 5, wallTime);
        using var pluginData = new MemoryStream();
        WriteBytes(pluginData, 3, info.ToArray());
        using var plugin = new MemoryStream();
        WriteBytes(plugin, 1, Encoding.UTF8.GetBytes("hparams"));
        WriteBytes(plugin, 2, pluginData.ToArray());
        using var metadata = new MemoryStream();
        WriteBytes(metadata, 1, plugin.ToArray());
        using var summaryValue = new MemoryStream();
        WriteBytes(summaryValue, 1, Encoding.UTF8.GetBytes(SessionStartTag));
        WriteBytes(summaryValue, 9, metadata.ToArray());
        using var summary = new MemoryStream();
        WriteBytes(summary, 1, summaryValue.ToArray());
        using var @event = new MemoryStream();
        WriteDouble(@event, 1, wallTime);
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
