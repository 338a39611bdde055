using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Replay;

/// <summary>
/// A preallocated batch of sampled n-step transitions, row after row, that a replay memory fills in
/// place and an agent copies into tensors once per batch.
/// </summary>
public sealed class ReplayBatch : ICheckpointable
{
    public ReplayBatch(int batchSize, int observationSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"the batch size must be >= 1, got {batchSize}");
        if (observationSize < 1) throw new ArgumentOutOfRangeException(nameof(observationSize), $"the observation size must be >= 1, got {observationSize}");
        BatchSize = batchSize;
        ObservationSize = observationSize;
        Observations = new float[batchSize * observationSize];
        Actions = new long[batchSize];
        Returns = new float[batchSize];
        NextObservations = new float[batchSize * observationSize];
        Discounts = new float[batchSize];
        Weights = new float[batchSize];
        Indices = new int[batchSize];
    }

    public int BatchSize { get; }
    public int ObservationSize { get; }
    /// <summary>obs_t of each row (B x observation size).</summary>
    public float[] Observations { get; }
    /// <summary>a_t.</summary>
    public long[] Actions { get; }
    /// <summary>R = sum over k &lt; m of gamma^k r_{t+k}.</summary>
    public float[] Returns { get; }
    /// <summary>The observation after m steps (the final one when the episode ended within them).</summary>
    public float[] NextObservations { get; }
    /// <summary>gamma^m, or 0 when the episode terminated within the m steps.</summary>
    public float[] Discounts { get; }
    /// <summary>Importance-sampling weights (all 1 for uniform sampling).</summary>
    public float[] Weights { get; }
    /// <summary>Where each row lives in the memory, for priority updates.</summary>
    public int[] Indices { get; }

    public void Save(StateWriter writer)
    {
        writer.Write<float>(Observations);
        writer.Write<long>(Actions);
        writer.Write<float>(Returns);
        writer.Write<float>(NextObservations);
        writer.Write<float>(Discounts);
        writer.Write<float>(Weights);
        writer.Write<int>(Indices);
    }

    public void Load(StateReader reader)
    {
        reader.ReadInto<float>(Observations);
        reader.ReadInto<long>(Actions);
        reader.ReadInto<float>(Returns);
        reader.ReadInto<float>(NextObservations);
        reader.ReadInto<float>(Discounts);
        reader.ReadInto<float>(Weights);
        reader.ReadInto<int>(Indices);
    }
}
