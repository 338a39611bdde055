using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Envs;

/// <summary>
/// N copies of an environment stepped together. Their observations live in one contiguous buffer of
/// N x observation-size values (copy i at offset i * size) that a network can read without copying;
/// each copy has its own seed derived from one, resets itself when its episode ends, and reports that
/// episode's return and length. Nothing is allocated per step. Its state (every copy's, and the last
/// step's results) can be saved and loaded into a fresh vector of the same environments.
/// </summary>
public sealed class VectorEnvironment : ICheckpointable
{
    private readonly Environment[] copies;
    private readonly Memory<float> observations;
    private readonly float[] finalObservations;
    private readonly float[] rewards;
    private readonly bool[] terminated;
    private readonly bool[] truncated;
    private readonly bool[] episodeEnded;
    private readonly float[] endedReturns;
    private readonly int[] endedLengths;
    private readonly double[] runningReturns;
    private readonly int[] runningLengths;

    /// <param name="copies">The environments, all with the same spaces.</param>
    /// <param name="buffer">Where observations go (N x size values); a new array when null.</param>
    public VectorEnvironment(IReadOnlyList<Environment> copies, Memory<float>? buffer = null)
    {
        if (copies.Count == 0) throw new ArgumentException("a vectorised environment needs at least one copy", nameof(copies));
        this.copies = copies.ToArray();
        var first = this.copies[0];
        if (this.copies.Any(c => c.ObservationSpace.Size != first.ObservationSpace.Size || c.ActionSpace.ToString() != first.ActionSpace.ToString()))
            throw new ArgumentException("every copy must have the same observation and action spaces", nameof(copies));
        ObservationSize = first.ObservationSpace.Size;
        observations = buffer ?? new float[Count * ObservationSize];
        if (observations.Length != Count * ObservationSize)
            throw new ArgumentException($"the observation buffer must hold {Count} x {ObservationSize} values, got {observations.Length}", nameof(buffer));
        for (var i = 0; i < Count; i++) this.copies[i].UseObservationBuffer(observations.Slice(i * ObservationSize, ObservationSize));
        finalObservations = new float[Count * ObservationSize];
        rewards = new float[Count];
        terminated = new bool[Count];
        truncated = new bool[Count];
        episodeEnded = new bool[Count];
        endedReturns = new float[Count];
        endedLengths = new int[Count];
        runningReturns = new double[Count];
        runningLengths = new int[Count];
    }

    public int Count => copies.Length;
    public int ObservationSize { get; }
    public BoxSpace ObservationSpace => copies[0].ObservationSpace;
    public Space ActionSpace => copies[0].ActionSpace;

    /// <summary>All copies' current observations, copy after copy.</summary>
    public ReadOnlySpan<float> Observations => observations.Span;
    /// <summary>For copies whose episode ended at the last step: the observation it ended on (before the automatic reset).</summary>
    public ReadOnlySpan<float> FinalObservations => finalObservations;
    public ReadOnlySpan<float> Rewards => rewards;
    public ReadOnlySpan<bool> Terminated => terminated;
    public ReadOnlySpan<bool> Truncated => truncated;
    /// <summary>Whether copy i finished an episode at the last step; its return and length are then in EpisodeReturns and EpisodeLengths.</summary>
    public ReadOnlySpan<bool> EpisodeEnded => episodeEnded;
    public ReadOnlySpan<float> EpisodeReturns => endedReturns;
    public ReadOnlySpan<int> EpisodeLengths => endedLengths;

    public void Save(StateWriter writer)
    {
        writer.Write(Count);
        foreach (var copy in copies) copy.Save(writer);
        writer.Write<float>(finalObservations);
        writer.Write<float>(rewards);
        writer.Write<bool>(terminated);
        writer.Write<bool>(truncated);
        writer.Write<bool>(episodeEnded);
        writer.Write<float>(endedReturns);
        writer.Write<int>(endedLengths);
        writer.Write<double>(runningReturns);
        writer.Write<int>(runningLengths);
    }

    public void Load(StateReader reader)
    {
        var count = reader.ReadInt32();
        if (count != Count) throw reader.Problem($"holds {count} environment copies where {Count} are expected");
        foreach (var copy in copies) copy.Load(reader);
        reader.ReadInto<float>(finalObservations);
        reader.ReadInto<float>(rewards);
        reader.ReadInto<bool>(terminated);
        reader.ReadInto<bool>(truncated);
        reader.ReadInto<bool>(episodeEnded);
        reader.ReadInto<float>(endedReturns);
        reader.ReadInto<int>(endedLengths);
        reader.ReadInto<double>(runningReturns);
        reader.ReadInto<int>(runningLengths);
    }

    /// <summary>Resets every copy, copy i with the seed derived from (seed, i).</summary>
    public void Reset(ulong seed)
    {
        for (var i = 0; i < Count; i++)
        {
            copies[i].Reset(EnvRandom.Derive(seed, i));
            runningReturns[i] = 0;
            runningLengths[i] = 0;
            episodeEnded[i] = false;
        }
    }

    /// <summary>Steps every copy with its discrete action.</summary>
    public void Step(ReadOnlySpan<int> actions)
    {
        if (actions.Length != Count) throw new ArgumentException($"expected {Count} actions, got {actions.Length}", nameof(actions));
        for (var i = 0; i < Count; i++) Record(i, copies[i].Step(actions[i]));
    }

    /// <summary>Steps every copy with its continuous action (copy i's vector at offset i * action size).</summary>
    public void Step(ReadOnlySpan<float> actions)
    {
        var size = ActionSpace is BoxSpace box ? box.Size : throw new InvalidOperationException("actions are discrete; pass integers");
        if (actions.Length != Count * size) throw new ArgumentException($"expected {Count} x {size} action values, got {actions.Length}", nameof(actions));
        for (var i = 0; i < Count; i++) Record(i, copies[i].Step(actions.Slice(i * size, size)));
    }

    private void Record(int i, StepResult result)
    {
        rewards[i] = result.Reward;
        terminated[i] = result.Terminated;
        truncated[i] = result.Truncated;
        runningReturns[i] += result.Reward;
        runningLengths[i]++;
        episodeEnded[i] = result.Done;
        if (!result.Done) return;
        endedReturns[i] = (float)runningReturns[i];
        endedLengths[i] = runningLengths[i];
        runningReturns[i] = 0;
        runningLengths[i] = 0;
        observations.Span.Slice(i * ObservationSize, ObservationSize).CopyTo(finalObservations.AsSpan(i * ObservationSize));
        copies[i].Reset();
    }
}
