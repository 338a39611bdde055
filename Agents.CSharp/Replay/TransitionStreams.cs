using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Replay;

/// <summary>Told when a stored transition becomes sampleable and when it stops being (evicted).</summary>
internal interface ISampleableIndex
{
    void Include(int index);
    void Exclude(int index);
}

/// <summary>
/// The storage behind both replay memories: one circular stream of slots per environment copy, each
/// observation stored once. A slot holds a transition (the observation its action was taken in, the
/// action, the reward, whether the episode ended there and how) or, right after an episode's last
/// transition, the observation it ended on. So the next observation of the transition in slot p is
/// always the observation in slot p + 1 of the same stream, and an n-step window never crosses into
/// another copy or episode. A transition at p becomes sampleable when the observation m steps later is
/// stored, m = n or fewer when the episode ended (terminated or truncated) within the window, and stops
/// being sampleable when it is overwritten; the <see cref="ISampleableIndex"/> hears both.
/// </summary>
internal sealed class TransitionStreams
{
    private const byte HoldsTransition = 1, HoldsFinalObservation = 2, EpisodeEnded = 4, EpisodeTerminated = 8;

    private readonly ReplayOptions options;
    private readonly ISampleableIndex index;
    private readonly ObservationSlots observations;
    private readonly int[] actions;
    /// <summary>Continuous actions, ActionWidth values per slot (empty for discrete actions).</summary>
    private readonly float[] actionVectors;
    private readonly float[] rewards;
    private readonly byte[] flags;
    private readonly bool[] sampleable;
    private readonly long[] written;

    public TransitionStreams(ReplayOptions options, ISampleableIndex index)
    {
        this.options = options;
        this.index = index;
        var slots = options.Capacity;
        observations = new ObservationSlots(slots, options.ObservationSize, options.Storage);
        actions = new int[slots];
        actionVectors = new float[slots * options.ActionWidth];
        rewards = new float[slots];
        flags = new byte[slots];
        sampleable = new bool[slots];
        written = new long[options.Copies];
    }

    public ReplayOptions Options => options;
    /// <summary>Transitions held.</summary>
    public int Count { get; private set; }
    /// <summary>Transitions whose n-step window is complete.</summary>
    public int SampleableCount { get; private set; }

    public bool IsSampleable(int slot) => sampleable[slot];

    /// <summary>Writes the stored slots and cursors (the sampleable index is its owner's to save).</summary>
    public void Save(StateWriter writer)
    {
        observations.Save(writer);
        writer.Write<int>(actions);
        if (options.ActionWidth > 0) writer.Write<float>(actionVectors);
        writer.Write<float>(rewards);
        writer.Write<byte>(flags);
        writer.Write<bool>(sampleable);
        writer.Write<long>(written);
        writer.Write(Count);
        writer.Write(SampleableCount);
    }

    public void Load(StateReader reader)
    {
        observations.Load(reader);
        reader.ReadInto<int>(actions);
        if (options.ActionWidth > 0) reader.ReadInto<float>(actionVectors);
        reader.ReadInto<float>(rewards);
        reader.ReadInto<byte>(flags);
        reader.ReadInto<bool>(sampleable);
        reader.ReadInto<long>(written);
        Count = reader.ReadInt32();
        SampleableCount = reader.ReadInt32();
    }

    /// <summary>Stores one vector step: copy i took actions[i] in its observation and got rewards[i]; finalObservations[i] is read only where the episode ended.</summary>
    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<int> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations)
    {
        if (options.ActionWidth > 0) throw new InvalidOperationException($"this memory stores continuous actions of {options.ActionWidth} values; pass vectors");
        CheckLength(actions.Length, options.Copies, "actions", nameof(actions));
        Add(observations, actions, default, rewards, terminated, truncated, finalObservations);
    }

    /// <summary>Stores one vector step of continuous actions: copy i's action is actions[i * ActionWidth ..] (see the discrete overload).</summary>
    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations)
    {
        if (options.ActionWidth == 0) throw new InvalidOperationException("this memory stores discrete actions; pass integers");
        CheckLength(actions.Length, options.Copies * options.ActionWidth, "action values", nameof(actions));
        Add(observations, default, actions, rewards, terminated, truncated, finalObservations);
    }

    private void Add(ReadOnlySpan<float> observations, ReadOnlySpan<int> actions, ReadOnlySpan<float> actionVectors, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations)
    {
        int copies = options.Copies, size = options.ObservationSize, width = options.ActionWidth;
        CheckLength(observations.Length, copies * size, "observation values", nameof(observations));
        CheckLength(rewards.Length, copies, "rewards", nameof(rewards));
        CheckLength(terminated.Length, copies, "terminated flags", nameof(terminated));
        CheckLength(truncated.Length, copies, "truncated flags", nameof(truncated));
        CheckLength(finalObservations.Length, copies * size, "final observation values", nameof(finalObservations));
        this.observations.CheckStorable(observations, nameof(observations));
        for (var c = 0; c < copies; c++)
            if (terminated[c] || truncated[c]) this.observations.CheckStorable(finalObservations.Slice(c * size, size), nameof(finalObservations));

        for (var c = 0; c < copies; c++)
        {
            var ended = terminated[c] || truncated[c];
            var kind = (byte)(HoldsTransition | (ended ? EpisodeEnded : 0) | (terminated[c] ? EpisodeTerminated : 0));
            var vector = width > 0 ? actionVectors.Slice(c * width, width) : default;
            Write(c, observations.Slice(c * size, size), kind, width > 0 ? 0 : actions[c], vector, rewards[c]);
            if (ended) Write(c, finalObservations.Slice(c * size, size), HoldsFinalObservation, 0, default, 0);
        }
    }

    /// <summary>Throws unless a batch of <paramref name="batchSize"/> can be drawn into <paramref name="into"/>.</summary>
    public void CheckSample(int batchSize, ReplayBatch into)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"the batch size must be >= 1, got {batchSize}");
        if (into.BatchSize != batchSize || into.ObservationSize != options.ObservationSize)
            throw new ArgumentException($"the batch holds {into.BatchSize} rows of {into.ObservationSize} values; sampling needs {batchSize} of {options.ObservationSize}", nameof(into));
        if (into.ActionWidth != options.ActionWidth)
            throw new ArgumentException($"the batch holds actions of width {into.ActionWidth}; this memory's are {options.ActionWidth} (0: discrete)", nameof(into));
        if (SampleableCount == 0)
            throw new InvalidOperationException($"nothing to sample: {Count} transitions stored, none with a complete {options.Steps}-step window");
    }

    /// <summary>Writes the n-step transition starting at <paramref name="slot"/> into row <paramref name="row"/>.</summary>
    public void Fill(int slot, ReplayBatch into, int row)
    {
        int perCopy = options.SlotsPerCopy, size = options.ObservationSize;
        var streamStart = slot / perCopy * perCopy;
        var position = slot - streamStart;
        double sum = 0, scale = 1;
        int steps = 0, current;
        do
        {
            current = streamStart + (position + steps) % perCopy;
            sum += scale * rewards[current];
            scale *= options.Gamma;
            steps++;
        } while (steps < options.Steps && (flags[current] & EpisodeEnded) == 0);
        var next = streamStart + (position + steps) % perCopy;
        observations.Read(slot, into.Observations.AsSpan(row * size, size));
        observations.Read(next, into.NextObservations.AsSpan(row * size, size));
        into.Actions[row] = actions[slot];
        var width = options.ActionWidth;
        if (width > 0) actionVectors.AsSpan(slot * width, width).CopyTo(into.ActionVectors.AsSpan(row * width, width));
        into.Returns[row] = (float)sum;
        into.Discounts[row] = (flags[current] & EpisodeTerminated) != 0 ? 0f : (float)scale;
        into.Indices[row] = slot;
    }

    private void Write(int copy, ReadOnlySpan<float> observation, byte kind, int action, ReadOnlySpan<float> actionVector, float reward)
    {
        var position = written[copy];
        var slot = SlotOf(copy, position);
        if ((flags[slot] & HoldsTransition) != 0)
        {
            Count--;
            if (sampleable[slot]) SetSampleable(slot, false);
        }
        observations.Write(slot, observation);
        actions[slot] = action;
        var width = options.ActionWidth;
        if (width > 0)
        {
            var stored = actionVectors.AsSpan(slot * width, width);
            if (actionVector.IsEmpty) stored.Clear();
            else actionVector.CopyTo(stored);
        }
        rewards[slot] = reward;
        flags[slot] = kind;
        if ((kind & HoldsTransition) != 0) Count++;
        written[copy] = position + 1;
        IncludeCompletedWindows(copy, position);
    }

    /// <summary>
    /// The observation just stored at <paramref name="position"/> completes the windows of the
    /// transitions k = 1..n slots back whose window ends there: the one n back when no episode ended in
    /// between, or, when it is a final observation, every one back to the episode's start (up to n).
    /// </summary>
    private void IncludeCompletedWindows(int copy, long position)
    {
        var oldest = Math.Max(0, written[copy] - options.SlotsPerCopy);
        var isFinal = (flags[SlotOf(copy, position)] & HoldsFinalObservation) != 0;
        for (var k = 1; k <= options.Steps; k++)
        {
            var start = position - k;
            if (start < oldest) return;
            var kind = flags[SlotOf(copy, start)];
            // A final observation, or an episode end before this observation, closes every window further back.
            if ((kind & HoldsFinalObservation) != 0 || (k > 1 && (kind & EpisodeEnded) != 0)) return;
            if (k == options.Steps || isFinal) SetSampleable(SlotOf(copy, start), true);
        }
    }

    private void SetSampleable(int slot, bool value)
    {
        sampleable[slot] = value;
        if (value)
        {
            SampleableCount++;
            index.Include(slot);
        }
        else
        {
            SampleableCount--;
            index.Exclude(slot);
        }
    }

    private int SlotOf(int copy, long position) => copy * options.SlotsPerCopy + (int)(position % options.SlotsPerCopy);

    private static void CheckLength(int actual, int expected, string what, string parameter)
    {
        if (actual != expected) throw new ArgumentException($"expected {expected} {what} (one step of every copy), got {actual}", parameter);
    }
}
