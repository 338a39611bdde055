using System.Runtime.InteropServices;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Replay;

namespace Prunerl.Agents.Training;

/// <summary>
/// A run's experience as an offline dataset: every vector step its replay memory was given, in the order
/// it was given (observations, actions, rewards, terminated and truncated flags, and the final observation
/// of each ended episode), with the environment's id, observation shape and action count. Recorded by a
/// training run (<see cref="RunHooks.Dataset"/>), written as one file, read back and replayed into a replay
/// memory (<see cref="Fill"/>), which then holds the same transitions the run's memory was given, for
/// offline training (<see cref="OfflineTraining"/>).
/// <para>
/// The file uses the checkpoint layout (<see cref="CheckpointFile"/>: sections with CRC-32s, an end
/// marker, written to a temporary file then moved) with the magic <c>PRLDATA\n</c> and
/// <see cref="FormatVersion"/>. Version 1 has two sections, little-endian, arrays as an int32 count then
/// the values:
/// <c>header</c>: environment id (string: int32 byte count, UTF-8), observation shape (int32 array),
/// action count (int32), copies C (int32), observation storage (int32: 0 float32, 1 binary 0/1 bytes),
/// vector steps T (int64), ended episodes E (int32);
/// <c>transitions</c>: observations (T x C x size values, float32 or bytes, step-major then copy),
/// actions (int32, T x C), rewards (float32, T x C), terminated (bytes 0/1, T x C), truncated (bytes 0/1,
/// T x C), final observations (E x size values, one per ended episode in step-then-copy order).
/// A file that is not a dataset, of another version, truncated, with a checksum wrong, inconsistent, or
/// recorded on another environment is a one-line <see cref="CheckpointException"/> naming it and the problem.
/// </para>
/// </summary>
public sealed class Dataset : ICheckpointable
{
    /// <summary>The version of the layout this code writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Datasets: <c>PRLDATA\n</c>, version <see cref="FormatVersion"/>.</summary>
    public static readonly SectionedFileKind Kind = new("dataset", "PRLDATA\n"u8.ToArray(), FormatVersion);

    private const string HeaderSection = "header", TransitionsSection = "transitions";

    private readonly int[] shape;
    private readonly List<float> floatObservations = [];
    private readonly List<byte> binaryObservations = [];
    private readonly List<int> actions = [];
    private readonly List<float> rewards = [];
    private readonly List<bool> terminated = [];
    private readonly List<bool> truncated = [];
    private readonly List<float> floatFinals = [];
    private readonly List<byte> binaryFinals = [];

    /// <summary>An empty dataset, to record into, for an environment with these spaces.</summary>
    public Dataset(string environment, IReadOnlyList<int> observationShape, int actions, int copies, ObservationStorage storage)
    {
        if (string.IsNullOrEmpty(environment)) throw new ArgumentException("a dataset names its environment", nameof(environment));
        if (observationShape.Count == 0 || observationShape.Any(d => d < 1))
            throw new ArgumentException($"observation dimensions must be >= 1, got [{string.Join(", ", observationShape)}]", nameof(observationShape));
        if (actions < 1) throw new ArgumentOutOfRangeException(nameof(actions), $"the action count must be >= 1, got {actions}");
        if (copies < 1) throw new ArgumentOutOfRangeException(nameof(copies), $"copies must be >= 1, got {copies}");
        if (!Enum.IsDefined(storage)) throw new ArgumentOutOfRangeException(nameof(storage), $"unknown observation storage {storage}");
        Environment = environment;
        shape = [.. observationShape];
        ObservationSize = shape.Aggregate(1, (a, b) => checked(a * b));
        Actions = actions;
        Copies = copies;
        Storage = storage;
    }

    /// <summary>The environment's registry id.</summary>
    public string Environment { get; }
    public IReadOnlyList<int> ObservationShape => shape;
    public int ObservationSize { get; }
    /// <summary>The number of discrete actions.</summary>
    public int Actions { get; }
    /// <summary>Environment copies stepped together when it was recorded.</summary>
    public int Copies { get; }
    public ObservationStorage Storage { get; }
    /// <summary>Vector steps recorded (each one transition per copy).</summary>
    public long Steps => actions.Count / Copies;
    /// <summary>Transitions recorded: steps x copies.</summary>
    public int Transitions => actions.Count;
    /// <summary>Episodes that ended (terminated or truncated) within the recording.</summary>
    public int EndedEpisodes { get; private set; }
    /// <summary>The file it was read from; null for one recorded in memory.</summary>
    public string? Path { get; private init; }

    /// <summary>Transition i (step-major, then copy): the action, reward and how the episode went on.</summary>
    public (int Action, float Reward, bool Terminated, bool Truncated) this[int i] => (actions[i], rewards[i], terminated[i], truncated[i]);

    /// <summary>Transition i's observation, as floats.</summary>
    public void ReadObservation(int i, Span<float> into) => Read(floatObservations, binaryObservations, i, into);

    /// <summary>
    /// Records one vector step with the replay memory's Add arguments: observations (copies x size) the
    /// actions were taken in, and, read only where an episode ended, the final observations.
    /// </summary>
    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<int> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations)
    {
        int size = ObservationSize;
        if (observations.Length != Copies * size || actions.Length != Copies || rewards.Length != Copies || terminated.Length != Copies
            || truncated.Length != Copies || finalObservations.Length != Copies * size)
            throw new ArgumentException($"a step of the recorded environment has {Copies} copies of {size} observation values");
        if (checked(this.actions.Count + Copies) > Array.MaxLength || checked((long)(this.actions.Count + Copies) * size) > Array.MaxLength)
            throw new InvalidOperationException($"a dataset holds at most {Array.MaxLength} observation values");
        Append(floatObservations, binaryObservations, observations);
        this.actions.AddRange(actions);
        this.rewards.AddRange(rewards);
        this.terminated.AddRange(terminated);
        this.truncated.AddRange(truncated);
        for (var c = 0; c < Copies; c++)
        {
            if (!terminated[c] && !truncated[c]) continue;
            Append(floatFinals, binaryFinals, finalObservations.Slice(c * size, size));
            EndedEpisodes++;
        }
    }

    /// <summary>
    /// The options of a replay memory that holds the whole dataset without evicting anything: each copy's
    /// stream gets a slot per transition and per ended episode (its final observation).
    /// </summary>
    public ReplayOptions ReplayOptions(int nStep, double gamma)
    {
        var slots = new long[Copies];
        for (var i = 0; i < Transitions; i++) slots[i % Copies] += terminated[i] || truncated[i] ? 2 : 1;
        var perCopy = Math.Max(slots.Max(), nStep + 1);
        if (perCopy * Copies > int.MaxValue) throw new InvalidOperationException($"{Path ?? "the dataset"}: too large for one replay memory");
        return new ReplayOptions((int)(perCopy * Copies), Copies, ObservationSize, nStep, gamma, Storage);
    }

    /// <summary>Gives the replay memory every recorded step, in order, as the run gave it (made with <see cref="ReplayOptions"/>).</summary>
    public void Fill(IReplayMemory memory)
    {
        var size = ObservationSize;
        var observations = new float[Copies * size];
        var finals = new float[Copies * size];
        var final = 0;
        for (var step = 0; step < Transitions; step += Copies)
        {
            for (var c = 0; c < Copies; c++)
            {
                ReadObservation(step + c, observations.AsSpan(c * size, size));
                if (terminated[step + c] || truncated[step + c]) Read(floatFinals, binaryFinals, final++, finals.AsSpan(c * size, size));
            }
            memory.Add(observations, CollectionsMarshal.AsSpan(actions).Slice(step, Copies), CollectionsMarshal.AsSpan(rewards).Slice(step, Copies),
                CollectionsMarshal.AsSpan(terminated).Slice(step, Copies), CollectionsMarshal.AsSpan(truncated).Slice(step, Copies), finals);
        }
    }

    /// <summary>
    /// Throws a one-line <see cref="CheckpointException"/> unless the dataset was recorded on this
    /// environment, with these observations and actions.
    /// </summary>
    public void CheckRecordedOn(string environment, IReadOnlyList<int> observationShape, int actions)
    {
        if (Environment == environment && shape.AsSpan().SequenceEqual([.. observationShape]) && Actions == actions) return;
        throw new CheckpointException($"{Path ?? "the dataset"}: recorded on {Describe(Environment, shape, Actions)}, not on {Describe(environment, observationShape, actions)}");
    }

    /// <summary>Writes the dataset as a file, whole or not at all.</summary>
    public void Write(string path) =>
        CheckpointFile.Write(path, Kind, [new CheckpointSection(HeaderSection, SaveHeader), new CheckpointSection(TransitionsSection, SaveTransitions)]);

    /// <summary>Reads a dataset file after checking all of it (see the class for what is refused).</summary>
    public static Dataset Read(string path)
    {
        using var file = CheckpointFile.Open(path, Kind);
        (Dataset Data, long Steps, int Ended)? header = null;
        file.Read(HeaderSection, reader => header = ReadHeader(reader, path));
        var (dataset, steps, ended) = header!.Value;
        file.Read(TransitionsSection, reader => dataset.LoadTransitions(reader, steps, ended));
        return dataset;
    }

    /// <summary>Writes the recording so far (for a run's checkpoint).</summary>
    public void Save(StateWriter writer)
    {
        SaveHeader(writer);
        SaveTransitions(writer);
    }

    /// <summary>Replaces the recording with a saved one of the same environment, shape, copies and storage.</summary>
    public void Load(StateReader reader)
    {
        var (saved, steps, ended) = ReadHeader(reader, null);
        if (saved.Environment != Environment || !saved.shape.AsSpan().SequenceEqual(shape) || saved.Actions != Actions || saved.Copies != Copies || saved.Storage != Storage)
            throw reader.Problem($"holds a recording of {Describe(saved.Environment, saved.shape, saved.Actions)} x{saved.Copies} ({saved.Storage}) where {Describe(Environment, shape, Actions)} x{Copies} ({Storage}) is expected");
        LoadTransitions(reader, steps, ended);
    }

    private void SaveHeader(StateWriter writer)
    {
        writer.Write(Environment);
        writer.Write<int>(shape);
        writer.Write(Actions);
        writer.Write(Copies);
        writer.Write((int)Storage);
        writer.Write(Steps);
        writer.Write(EndedEpisodes);
    }

    private void SaveTransitions(StateWriter writer)
    {
        WriteValues(writer, floatObservations, binaryObservations);
        writer.Write<int>(CollectionsMarshal.AsSpan(actions));
        writer.Write<float>(CollectionsMarshal.AsSpan(rewards));
        writer.Write<bool>(CollectionsMarshal.AsSpan(terminated));
        writer.Write<bool>(CollectionsMarshal.AsSpan(truncated));
        WriteValues(writer, floatFinals, binaryFinals);
    }

    /// <summary>The header as an empty dataset, with the counts its transitions must have.</summary>
    private static (Dataset Data, long Steps, int Ended) ReadHeader(StateReader reader, string? path)
    {
        var environment = reader.ReadString();
        var shape = reader.ReadArray<int>();
        var actions = reader.ReadInt32();
        var copies = reader.ReadInt32();
        var storage = (ObservationStorage)reader.ReadInt32();
        var steps = reader.ReadInt64();
        var ended = reader.ReadInt32();
        Dataset dataset;
        try { dataset = new Dataset(environment, shape, actions, copies, storage) { Path = path }; }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            throw reader.Problem($"an inconsistent header ({e.Message.Split(" (Parameter")[0]})");
        }
        if (steps < 0 || steps * copies > Array.MaxLength || ended < 0 || ended > steps * copies)
            throw reader.Problem($"an inconsistent header ({steps} steps of {copies} copies, {ended} ended episodes)");
        return (dataset, steps, ended);
    }

    /// <summary>Reads the arrays, each of exactly the length the header gives, and checks their values.</summary>
    private void LoadTransitions(StateReader reader, long steps, int ended)
    {
        var count = checked((int)(steps * Copies));
        var observations = ReadValues(reader, (long)count * ObservationSize, "observation");
        var actions = ReadExactly<int>(reader, count, "actions");
        var rewards = ReadExactly<float>(reader, count, "rewards");
        var terminated = ReadExactly<bool>(reader, count, "terminated flags");
        var truncated = ReadExactly<bool>(reader, count, "truncated flags");
        var finals = ReadValues(reader, (long)ended * ObservationSize, "final observation");
        var outOfRange = Array.FindIndex(actions, a => a < 0 || a >= Actions);
        if (outOfRange >= 0) throw reader.Problem($"transition {outOfRange} takes action {actions[outOfRange]}, outside 0..{Actions - 1}");
        var endings = terminated.Zip(truncated).Count(t => t.First || t.Second);
        if (endings != ended) throw reader.Problem($"{endings} transitions end an episode where the header says {ended}");
        floatObservations.Clear();
        binaryObservations.Clear();
        floatFinals.Clear();
        binaryFinals.Clear();
        if (Storage == ObservationStorage.Binary)
        {
            binaryObservations.AddRange((byte[])observations);
            binaryFinals.AddRange((byte[])finals);
        }
        else
        {
            floatObservations.AddRange((float[])observations);
            floatFinals.AddRange((float[])finals);
        }
        this.actions.Clear();
        this.actions.AddRange(actions);
        this.rewards.Clear();
        this.rewards.AddRange(rewards);
        this.terminated.Clear();
        this.terminated.AddRange(terminated);
        this.truncated.Clear();
        this.truncated.AddRange(truncated);
        EndedEpisodes = ended;
    }

    private Array ReadValues(StateReader reader, long expected, string what)
    {
        if (Storage == ObservationStorage.Float32) return ReadExactly<float>(reader, expected, $"{what} values");
        var bytes = ReadExactly<byte>(reader, expected, $"{what} values");
        var at = Array.FindIndex(bytes, b => b > 1);
        return at < 0 ? bytes : throw reader.Problem($"binary {what} value {bytes[at]} at position {at}, not 0 or 1");
    }

    private static T[] ReadExactly<T>(StateReader reader, long expected, string what) where T : unmanaged
    {
        var values = reader.ReadArray<T>();
        return values.Length == expected ? values : throw reader.Problem($"holds {values.Length} {what} where the header gives {expected}");
    }

    private void WriteValues(StateWriter writer, List<float> floats, List<byte> bytes)
    {
        if (Storage == ObservationStorage.Binary) writer.Write<byte>(CollectionsMarshal.AsSpan(bytes));
        else writer.Write<float>(CollectionsMarshal.AsSpan(floats));
    }

    private void Append(List<float> floats, List<byte> bytes, ReadOnlySpan<float> values)
    {
        if (Storage == ObservationStorage.Float32)
        {
            floats.AddRange(values);
            return;
        }
        var at = values.IndexOfAnyExcept(0f, 1f);
        if (at >= 0) throw new ArgumentException($"binary observation storage holds 0/1 values only, got {values[at]} at position {at}");
        foreach (var value in values) bytes.Add((byte)value);
    }

    private void Read(List<float> floats, List<byte> bytes, int i, Span<float> into)
    {
        var size = ObservationSize;
        if (Storage == ObservationStorage.Float32)
        {
            CollectionsMarshal.AsSpan(floats).Slice(i * size, size).CopyTo(into);
            return;
        }
        var source = CollectionsMarshal.AsSpan(bytes).Slice(i * size, size);
        for (var k = 0; k < size; k++) into[k] = source[k];
    }

    private static string Describe(string environment, IReadOnlyList<int> shape, int actions) =>
        $"{environment} (observations [{string.Join(", ", shape)}], {actions} actions)";
}
