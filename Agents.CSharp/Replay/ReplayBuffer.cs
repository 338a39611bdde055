using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Replay;

/// <summary>
/// Uniform experience replay (DQN; Mnih et al. 2015) over n-step transitions: every sampleable
/// transition is drawn with the same probability. The sampleable transitions are kept in a dense set,
/// so a draw is one random integer.
/// </summary>
public sealed class ReplayBuffer : IReplayMemory
{
    private readonly SampleableSet sampleable;
    private readonly TransitionStreams streams;

    public ReplayBuffer(ReplayOptions options)
    {
        sampleable = new SampleableSet(options.Capacity);
        streams = new TransitionStreams(options, sampleable);
    }

    public ReplayOptions Options => streams.Options;
    public int Capacity => streams.Options.Capacity;
    public int Count => streams.Count;
    public int SampleableCount => streams.SampleableCount;

    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<int> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations) =>
        streams.Add(observations, actions, rewards, terminated, truncated, finalObservations);

    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations) =>
        streams.Add(observations, actions, rewards, terminated, truncated, finalObservations);

    public void Save(StateWriter writer)
    {
        streams.Save(writer);
        sampleable.Save(writer);
    }

    public void Load(StateReader reader)
    {
        streams.Load(reader);
        sampleable.Load(reader);
        if (sampleable.Count != streams.SampleableCount)
            throw reader.Problem($"the sampleable set holds {sampleable.Count} transitions where the streams have {streams.SampleableCount}");
    }

    public void Sample(int batchSize, ref EnvRandom random, ReplayBatch into)
    {
        streams.CheckSample(batchSize, into);
        for (var row = 0; row < batchSize; row++)
        {
            streams.Fill(sampleable[random.NextInt(sampleable.Count)], into, row);
            into.Weights[row] = 1f;
        }
    }
}

/// <summary>A set of slot indices with O(1) insert, remove and i-th member (removal swaps in the last member).</summary>
internal sealed class SampleableSet : ISampleableIndex
{
    private readonly int[] members;
    private readonly int[] positions;

    public SampleableSet(int slots)
    {
        members = new int[slots];
        positions = new int[slots];
    }

    public int Count { get; private set; }

    public int this[int i] => members[i];

    /// <summary>Writes the members in order (the order decides which slot a draw picks).</summary>
    public void Save(StateWriter writer)
    {
        writer.Write<int>(members);
        writer.Write<int>(positions);
        writer.Write(Count);
    }

    public void Load(StateReader reader)
    {
        reader.ReadInto<int>(members);
        reader.ReadInto<int>(positions);
        var count = reader.ReadInt32();
        Count = count >= 0 && count <= members.Length ? count : throw reader.Problem($"a set of {count} members in {members.Length} slots");
    }

    public void Include(int index)
    {
        positions[index] = Count;
        members[Count++] = index;
    }

    public void Exclude(int index)
    {
        var last = members[--Count];
        var position = positions[index];
        members[position] = last;
        positions[last] = position;
    }
}
