using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Replay;

/// <summary>
/// Proportional prioritized replay (Schaul et al. 2016) as Dopamine's Rainbow uses it, over the same
/// n-step transitions as <see cref="ReplayBuffer"/>: transition i is drawn with probability
/// P(i) = p_i^alpha / sum_j p_j^alpha, independently for each row (Dopamine's JAX sampler) or stratified
/// (the total mass split into B equal segments, one uniform draw in each; Schaul et al.), and weighted by w_i = (N P(i))^-beta / max_j w_j over the batch, N the
/// sampleable transitions. A transition gets the largest priority seen so far (1 at the start) when it
/// becomes sampleable; transitions that are not sampleable have probability 0.
/// </summary>
public sealed class PrioritizedReplayBuffer : IReplayMemory
{
    private readonly PriorityIndex priorities;
    private readonly TransitionStreams streams;
    private double beta;
    private readonly bool stratified;

    /// <param name="options">Storage and n-step returns.</param>
    /// <param name="alpha">Priority exponent, >= 0 (0 is uniform); Dopamine's Rainbow samples with sqrt of the loss, alpha = 0.5.</param>
    /// <param name="beta">Importance-sampling exponent in [0, 1]; Dopamine's Rainbow uses 0.5.</param>
    /// <param name="stratified">One draw per equal segment of the total priority (Schaul et al.) instead of independent draws (Dopamine's JAX sampler).</param>
    public PrioritizedReplayBuffer(ReplayOptions options, double alpha = 0.5, double beta = 0.5, bool stratified = false)
    {
        this.stratified = stratified;
        if (!(alpha >= 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be finite and >= 0, got {alpha}");
        priorities = new PriorityIndex(options.Capacity, alpha);
        streams = new TransitionStreams(options, priorities);
        Beta = beta;
    }

    public ReplayOptions Options => streams.Options;
    public int Capacity => streams.Options.Capacity;
    public int Count => streams.Count;
    public int SampleableCount => streams.SampleableCount;
    public double Alpha => priorities.Alpha;
    /// <summary>The largest priority set so far (1 at the start): what new transitions get.</summary>
    public double MaxPriority => priorities.MaxPriority;

    /// <summary>The importance-sampling exponent, in [0, 1]; settable so it can be annealed.</summary>
    public double Beta
    {
        get => beta;
        set => beta = value >= 0 && value <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"beta must be in [0, 1], got {value}");
    }

    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<int> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations) =>
        streams.Add(observations, actions, rewards, terminated, truncated, finalObservations);

    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations) =>
        streams.Add(observations, actions, rewards, terminated, truncated, finalObservations);

    public void Save(StateWriter writer)
    {
        streams.Save(writer);
        priorities.Save(writer);
        writer.Write(beta);
    }

    public void Load(StateReader reader)
    {
        streams.Load(reader);
        priorities.Load(reader);
        Beta = reader.ReadDouble();
    }

    public void Sample(int batchSize, ref EnvRandom random, ReplayBatch into)
    {
        streams.CheckSample(batchSize, into);
        var tree = priorities.Tree;
        var segment = tree.Total / batchSize;
        var smallest = double.PositiveInfinity;
        for (var row = 0; row < batchSize; row++)
        {
            var slot = tree.Find(stratified ? (row + random.NextDouble()) * segment : random.NextDouble() * tree.Total);
            streams.Fill(slot, into, row);
            smallest = Math.Min(smallest, tree[slot]);
        }
        // w_i / max_j w_j = (N P(i))^-beta / (N P_min)^-beta = (P_min / P(i))^beta: N and the total cancel.
        for (var row = 0; row < batchSize; row++) into.Weights[row] = (float)Math.Pow(smallest / tree[into.Indices[row]], beta);
    }

    /// <summary>
    /// Sets the priorities (finite, > 0) of sampled transitions, by their <see cref="ReplayBatch.Indices"/>;
    /// a transition evicted since it was sampled is skipped. Call before the next Add, as the slots may be reused.
    /// </summary>
    public void UpdatePriorities(ReadOnlySpan<int> indices, ReadOnlySpan<float> priorities)
    {
        if (indices.Length != priorities.Length)
            throw new ArgumentException($"expected one priority per index, got {indices.Length} indices and {priorities.Length} priorities", nameof(priorities));
        for (var i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Capacity)
                throw new ArgumentOutOfRangeException(nameof(indices), $"index {indices[i]} is outside [0, {Capacity})");
            if (!(priorities[i] > 0) || float.IsInfinity(priorities[i]))
                throw new ArgumentOutOfRangeException(nameof(priorities), $"priorities must be finite and > 0, got {priorities[i]} at position {i}");
        }
        for (var i = 0; i < indices.Length; i++)
            if (streams.IsSampleable(indices[i])) this.priorities.Set(indices[i], priorities[i]);
    }
}

/// <summary>The sampleable transitions' priorities: p^alpha in a sum tree, 0 for the rest.</summary>
internal sealed class PriorityIndex(int slots, double alpha) : ISampleableIndex
{
    public SumTree Tree { get; } = new(slots);
    public double Alpha => alpha;
    public double MaxPriority { get; private set; } = 1;

    public void Save(StateWriter writer)
    {
        Tree.Save(writer);
        writer.Write(MaxPriority);
    }

    public void Load(StateReader reader)
    {
        Tree.Load(reader);
        MaxPriority = reader.ReadDouble();
    }

    public void Include(int index) => Tree.Set(index, Math.Pow(MaxPriority, alpha));

    public void Exclude(int index) => Tree.Set(index, 0);

    public void Set(int index, double priority)
    {
        Tree.Set(index, Math.Pow(priority, alpha));
        MaxPriority = Math.Max(MaxPriority, priority);
    }
}
