using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Replay;

/// <summary>
/// A preallocated batch of sampled n-step transitions, row after row, that a replay memory fills in
/// place and an agent copies into tensors once per batch.
/// </summary>
public sealed class ReplayBatch : ICheckpointable
{
    /// <param name="batchSize">Rows.</param>
    /// <param name="observationSize">Values per observation.</param>
    /// <param name="actionWidth">0 for discrete actions (<see cref="Actions"/>); else the values of one continuous action (<see cref="ActionVectors"/>).</param>
    public ReplayBatch(int batchSize, int observationSize, int actionWidth = 0)
    {
        if (actionWidth < 0) throw new ArgumentOutOfRangeException(nameof(actionWidth), $"the action width must be >= 0 (0: discrete), got {actionWidth}");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"the batch size must be >= 1, got {batchSize}");
        if (observationSize < 1) throw new ArgumentOutOfRangeException(nameof(observationSize), $"the observation size must be >= 1, got {observationSize}");
        BatchSize = batchSize;
        ObservationSize = observationSize;
        Observations = new float[batchSize * observationSize];
        ActionWidth = actionWidth;
        Actions = new long[batchSize];
        ActionVectors = new float[batchSize * actionWidth];
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
    /// <summary>0 for discrete actions; else the values of one continuous action.</summary>
    public int ActionWidth { get; }
    /// <summary>a_t (discrete actions).</summary>
    public long[] Actions { get; }
    /// <summary>a_t of each row (B x action width; continuous actions).</summary>
    public float[] ActionVectors { get; }
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
        if (ActionWidth > 0) writer.Write<float>(ActionVectors);
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
        if (ActionWidth > 0) reader.ReadInto<float>(ActionVectors);
        reader.ReadInto<float>(Returns);
        reader.ReadInto<float>(NextObservations);
        reader.ReadInto<float>(Discounts);
        reader.ReadInto<float>(Weights);
        reader.ReadInto<int>(Indices);
    }
}
