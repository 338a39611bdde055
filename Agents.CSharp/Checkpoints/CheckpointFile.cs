using System.Buffers.Binary;
using System.Text;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Checkpoints;

/// <summary>One named part of a checkpoint and how to write it.</summary>
public sealed record CheckpointSection(string Name, Action<StateWriter> Save);

/// <summary>
/// A kind of file in the sectioned, checksummed layout: its magic bytes (8), the format version this
/// code writes and reads, and the noun that messages use (checkpoint, dataset).
/// </summary>
public sealed record SectionedFileKind(string Noun, byte[] Magic, int Version);

/// <summary>
/// The checkpoint format (and, with its own magic and version, the dataset format, Training/Dataset.cs):
/// the magic bytes <c>PRLCKPT\n</c>, the format version (int32), then sections,
/// each a header (name as int32 length and UTF-8, payload length as int64, CRC-32 of both) followed by
/// its payload and the payload's CRC-32, and last an empty section named <c>end</c>. Everything
/// little-endian. <see cref="Open(string)"/> checks the whole file (magic, version, every checksum, the end
/// marker) before anything is read from it, so a corrupt or truncated file is refused whole.
/// In a directory, the latest checkpoint is <c>checkpoint.bin</c> and the one before it
/// <c>checkpoint.prev.bin</c>: <see cref="Save"/> writes a temporary file, flushes it to disk, and only
/// then moves the latest to the previous and the new file in its place.
/// </summary>
public sealed class CheckpointFile : IDisposable
{
    /// <summary>The version of the layout this code writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The latest checkpoint's file name in a checkpoint directory.</summary>
    public const string LatestName = "checkpoint.bin";

    /// <summary>The previous checkpoint's file name, kept until the next one is in place.</summary>
    public const string PreviousName = "checkpoint.prev.bin";

    /// <summary>Checkpoints: <c>PRLCKPT\n</c>, version <see cref="FormatVersion"/>.</summary>
    public static readonly SectionedFileKind Checkpoint = new("checkpoint", "PRLCKPT\n"u8.ToArray(), FormatVersion);

    private const string EndName = "end";
    private const int MaxNameBytes = 256;

    private readonly FileStream file;
    private readonly Dictionary<string, (long Offset, long Length)> sections;

    private CheckpointFile(string path, FileStream file, Dictionary<string, (long Offset, long Length)> sections)
    {
        Path = path;
        this.file = file;
        this.sections = sections;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The sections' names, in file order.</summary>
    public IEnumerable<string> Sections => sections.OrderBy(s => s.Value.Offset).Select(s => s.Key);

    /// <summary>Whether the file has a section of this name.</summary>
    public bool Has(string name) => sections.ContainsKey(name);

    /// <summary>Reads a section with <paramref name="load"/>, which must read it exactly to its end.</summary>
    public void Read(string name, Action<StateReader> load)
    {
        if (!sections.TryGetValue(name, out var section)) throw new CheckpointException($"{Path}: no section '{name}'");
        file.Position = section.Offset;
        var reader = new StateReader(file, section.Length, $"{Path}, section '{name}'");
        load(reader);
        reader.ExpectEnd();
    }

    /// <summary>A section's payload as it is stored (for comparing checkpoints part by part).</summary>
    internal byte[] ReadRaw(string name)
    {
        if (!sections.TryGetValue(name, out var section)) throw new CheckpointException($"{Path}: no section '{name}'");
        var bytes = new byte[section.Length];
        file.Position = section.Offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// The checkpoint to resume from in <paramref name="directory"/>: the latest, or the previous one when
    /// a save was cut off between its two moves; null when there is none.
    /// </summary>
    public static string? Find(string directory)
    {
        var latest = System.IO.Path.Combine(directory, LatestName);
        if (File.Exists(latest)) return latest;
        var previous = System.IO.Path.Combine(directory, PreviousName);
        return File.Exists(previous) ? previous : null;
    }

    /// <summary>Writes the sections as the latest checkpoint in <paramref name="directory"/>, keeping the one before as the previous.</summary>
    public static void Save(string directory, IEnumerable<CheckpointSection> sections)
    {
        Directory.CreateDirectory(directory);
        var latest = System.IO.Path.Combine(directory, LatestName);
        var temporary = latest + ".tmp";
        WriteWhole(temporary, Checkpoint, sections);
        if (File.Exists(latest)) File.Move(latest, System.IO.Path.Combine(directory, PreviousName), overwrite: true);
        File.Move(temporary, latest);
    }

    /// <summary>
    /// Writes the sections as a file of the given kind at <paramref name="path"/>, whole or not at all: a
    /// temporary file beside it, flushed to disk, then moved over the target.
    /// </summary>
    public static void Write(string path, SectionedFileKind kind, IEnumerable<CheckpointSection> sections)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        WriteWhole(temporary, kind, sections);
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>
    /// Writes the temporary file, removing it when the write fails (a full disk, say) so that a partial file
    /// does not hold the space; the exception then goes on, the files already in place untouched.
    /// </summary>
    private static void WriteWhole(string temporary, SectionedFileKind kind, IEnumerable<CheckpointSection> sections)
    {
        try
        {
            WriteFile(temporary, kind, sections);
        }
        catch (IOException)
        {
            try { File.Delete(temporary); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }

    private static void WriteFile(string path, SectionedFileKind kind, IEnumerable<CheckpointSection> sections)
    {
        var parts = sections.ToList();
        if (parts.Select(s => s.Name).Append(EndName).Distinct().Count() != parts.Count + 1)
            throw new ArgumentException($"section names must be distinct and not '{EndName}' (the end marker)", nameof(sections));
        using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        file.Write(kind.Magic);
        Span<byte> version = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(version, kind.Version);
        file.Write(version);
        foreach (var section in parts) WriteSection(file, section);
        WriteSection(file, new CheckpointSection(EndName, _ => { }));
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Opens a checkpoint after checking all of it: a file that is not a checkpoint, of another format
    /// version, truncated, or with any checksum wrong is a <see cref="CheckpointException"/> naming it and the problem.
    /// </summary>
    public static CheckpointFile Open(string path) => Open(path, Checkpoint);

    /// <summary>Opens a file of the given kind after checking all of it, as <see cref="Open(string)"/> does a checkpoint.</summary>
    public static CheckpointFile Open(string path, SectionedFileKind kind)
    {
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{path}: cannot be read ({e.Message})");
        }
        try
        {
            return new CheckpointFile(path, file, Index(path, file, kind));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => file.Dispose();

    private static void WriteSection(FileStream file, CheckpointSection section)
    {
        var name = Encoding.UTF8.GetBytes(section.Name);
        if (name.Length is 0 or > MaxNameBytes) throw new ArgumentException($"a section name takes 1 to {MaxNameBytes} bytes, got '{section.Name}'", nameof(section));
        var headerAt = file.Position;
        var header = new byte[HeaderLength(name.Length)];
        file.Write(header); // filled in once the payload's length is known
        var writer = new StateWriter(file);
        section.Save(writer);
        Span<byte> checksum = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(checksum, writer.Checksum);
        file.Write(checksum);
        var end = file.Position;
        FillHeader(header, name, writer.Length);
        file.Position = headerAt;
        file.Write(header);
        file.Position = end;
    }

    private static int HeaderLength(int nameBytes) => sizeof(int) + nameBytes + sizeof(long) + sizeof(uint);

    private static void FillHeader(Span<byte> header, byte[] name, long payloadLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(header, name.Length);
        name.CopyTo(header[sizeof(int)..]);
        var lengthAt = sizeof(int) + name.Length;
        BinaryPrimitives.WriteInt64LittleEndian(header[lengthAt..], payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[(lengthAt + sizeof(long))..], Crc32.Iso.Compute(header[..(lengthAt + sizeof(long))]));
    }

    /// <summary>Checks the whole file and finds each section's payload.</summary>
    private static Dictionary<string, (long Offset, long Length)> Index(string path, FileStream file, SectionedFileKind kind)
    {
        CheckpointException Problem(string what) => new($"{path}: {what}");
        var magic = kind.Magic;
        var start = new byte[magic.Length + sizeof(int)];
        if (file.Length < start.Length || file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) < start.Length
            || !start.AsSpan(0, magic.Length).SequenceEqual(magic))
            throw Problem($"not a prunerl {kind.Noun}");
        var version = BinaryPrimitives.ReadInt32LittleEndian(start.AsSpan(magic.Length));
        if (version != kind.Version)
            throw Problem($"{kind.Noun} format version {version}, but this prunerl reads version {kind.Version} only");
        var sections = new Dictionary<string, (long, long)>();
        var buffer = new byte[1 << 20];
        while (true)
        {
            var headerAt = file.Position;
            if (file.Length - headerAt < sizeof(int)) throw Problem($"truncated after {headerAt} bytes (no end marker)");
            file.ReadExactly(buffer, 0, sizeof(int));
            var nameBytes = BinaryPrimitives.ReadInt32LittleEndian(buffer);
            if (nameBytes is <= 0 or > MaxNameBytes || file.Length - headerAt < HeaderLength(nameBytes))
                throw Problem($"corrupt or truncated section header at byte {headerAt}");
            file.ReadExactly(buffer, sizeof(int), HeaderLength(nameBytes) - sizeof(int));
            var lengthAt = sizeof(int) + nameBytes;
            var stored = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(lengthAt + sizeof(long)));
            if (Crc32.Iso.Compute(buffer.AsSpan(0, lengthAt + sizeof(long))) != stored)
                throw Problem($"corrupt section header at byte {headerAt} (checksum mismatch)");
            var name = Encoding.UTF8.GetString(buffer, sizeof(int), nameBytes);
            var length = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(lengthAt));
            var offset = file.Position;
            if (length < 0 || file.Length - offset < length + sizeof(uint))
                throw Problem($"truncated inside section '{name}'");
            var crc = Crc32.Start;
            for (var left = length; left > 0;)
            {
                var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                crc = Crc32.Iso.Append(crc, buffer.AsSpan(0, read));
                left -= read;
            }
            file.ReadExactly(buffer, 0, sizeof(uint));
            if (Crc32.Finish(crc) != BinaryPrimitives.ReadUInt32LittleEndian(buffer))
                throw Problem($"section '{name}' is corrupt (checksum mismatch)");
            if (name == EndName)
            {
                if (file.Position != file.Length) throw Problem($"{file.Length - file.Position} bytes after the end marker");
                return sections;
            }
            if (!sections.TryAdd(name, (offset, length))) throw Problem($"section '{name}' appears twice");
        }
    }
}
