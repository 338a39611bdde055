namespace Prunerl.Agents.Replay;

/// <summary>How a replay memory keeps observations.</summary>
public enum ObservationStorage
{
    /// <summary>4 bytes per value, any value.</summary>
    Float32,
    /// <summary>1 byte per value, for observations known to be 0/1 (MinAtar); other values are rejected on Add.</summary>
    Binary,
}

/// <summary>
/// The shape of a replay memory fed by a vectorised environment of <see cref="Copies"/> copies: each
/// copy has its own circular stream of <see cref="SlotsPerCopy"/> = capacity / copies slots, and the
/// sampled targets are n-step returns with discount <see cref="Gamma"/>.
/// </summary>
public sealed class ReplayOptions
{
    /// <param name="capacity">Slots over all copies (rounded down to a multiple of <paramref name="copies"/>).</param>
    /// <param name="copies">The vectorised environment's copies, one transition each per Add.</param>
    /// <param name="observationSize">Values per observation.</param>
    /// <param name="steps">n of the n-step return, at least 1.</param>
    /// <param name="gamma">The discount, in [0, 1].</param>
    /// <param name="storage">Float32, or Binary for 0/1 observations.</param>
    /// <param name="actionWidth">0 for discrete actions (one integer each); else the values of one continuous action vector.</param>
    public ReplayOptions(int capacity, int copies, int observationSize, int steps = 1, double gamma = 0.99, ObservationStorage storage = ObservationStorage.Float32, int actionWidth = 0)
    {
        if (actionWidth < 0) throw new ArgumentOutOfRangeException(nameof(actionWidth), $"the action width must be >= 0 (0: discrete), got {actionWidth}");
        if (copies < 1) throw new ArgumentOutOfRangeException(nameof(copies), $"copies must be >= 1, got {copies}");
        if (observationSize < 1) throw new ArgumentOutOfRangeException(nameof(observationSize), $"the observation size must be >= 1, got {observationSize}");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"the n of n-step returns must be >= 1, got {steps}");
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), $"gamma must be in [0, 1], got {gamma}");
        if (!Enum.IsDefined(storage)) throw new ArgumentOutOfRangeException(nameof(storage), $"unknown observation storage {storage}");
        // A window of n transitions and the observation after them must fit in one copy's stream.
        if (capacity / copies < steps + 1)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"the capacity must give each of the {copies} copies at least n + 1 = {steps + 1} slots, got {capacity}");
        if ((long)capacity * observationSize > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"{capacity} x {observationSize} observation values do not fit in one array");
        Copies = copies;
        ObservationSize = observationSize;
        Steps = steps;
        Gamma = gamma;
        Storage = storage;
        SlotsPerCopy = capacity / copies;
        ActionWidth = actionWidth;
    }

    /// <summary>0 for discrete actions; else the values of one continuous action vector.</summary>
    public int ActionWidth { get; }

    public int Copies { get; }
    public int ObservationSize { get; }
    /// <summary>n of the n-step return.</summary>
    public int Steps { get; }
    public double Gamma { get; }
    public ObservationStorage Storage { get; }
    /// <summary>Slots in each copy's circular stream.</summary>
    public int SlotsPerCopy { get; }
    /// <summary>Slots over all copies: Copies x SlotsPerCopy.</summary>
    public int Capacity => Copies * SlotsPerCopy;
}
