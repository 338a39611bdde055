using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Envs;

/// <summary>
/// A Gymnasium-style environment: <c>Reset(seed)</c> starts an episode, <c>Step(action)</c> advances
/// it. The observation lives in a buffer the environment writes in place (its own, or a slice of a
/// vectorised buffer that a network reads without copies), so stepping allocates nothing. This class
/// checks the caller's side of the contract (actions in the space, no stepping a finished episode,
/// seeding before the first episode) and applies the time limit; subclasses hold the dynamics.
/// Its whole state (random stream, time-limit counter, observation and the dynamics' own fields) can be
/// saved and loaded into a fresh environment of the same id and options, which then goes on exactly as
/// the original would have.
/// </summary>
public abstract class Environment : ICheckpointable
{
    private Memory<float> observation;
    private EnvRandom random;
    private bool seeded;
    private bool episodeOver = true;
    private int elapsed;

    protected Environment(string id, BoxSpace observationSpace, Space actionSpace, int? maxEpisodeSteps)
    {
        Id = id;
        ObservationSpace = observationSpace;
        ActionSpace = actionSpace;
        MaxEpisodeSteps = maxEpisodeSteps;
        observation = new float[observationSpace.Size];
    }

    /// <summary>The registry id, e.g. <c>cartpole</c> or <c>minatar/breakout</c>.</summary>
    public string Id { get; }

    public BoxSpace ObservationSpace { get; }

    public Space ActionSpace { get; }

    /// <summary>Steps after which an episode is truncated (Gymnasium's TimeLimit); null for none.</summary>
    public int? MaxEpisodeSteps { get; }

    /// <summary>Steps taken in the current episode.</summary>
    public int ElapsedSteps => elapsed;

    /// <summary>The current observation (flattened, channels first for images).</summary>
    public ReadOnlySpan<float> Observation => observation.Span;

    /// <summary>
    /// Makes the environment write its observations into <paramref name="buffer"/> (for example a slice
    /// of a vectorised batch). The next call must be a Reset, which fills it.
    /// </summary>
    public void UseObservationBuffer(Memory<float> buffer)
    {
        if (buffer.Length != ObservationSpace.Size)
            throw new ArgumentException($"{Id}: the observation buffer must hold {ObservationSpace.Size} values, got {buffer.Length}", nameof(buffer));
        observation = buffer;
        episodeOver = true;
    }

    /// <summary>Seeds the environment's random stream and starts an episode.</summary>
    public ReadOnlySpan<float> Reset(ulong seed)
    {
        random = new EnvRandom(seed);
        seeded = true;
        return Reset();
    }

    /// <summary>Starts an episode, continuing the random stream of the last seeded reset.</summary>
    public ReadOnlySpan<float> Reset()
    {
        if (!seeded) throw new InvalidOperationException($"{Id}: reset with a seed first, e.g. Reset(seed: 0)");
        elapsed = 0;
        episodeOver = false;
        ResetCore(observation.Span);
        return observation.Span;
    }

    /// <summary>Takes a discrete action.</summary>
    public StepResult Step(int action)
    {
        if (ActionSpace is not DiscreteSpace discrete)
            throw new InvalidOperationException($"{Id}: actions are continuous ({ActionSpace}); pass a vector");
        if (!discrete.Contains(action))
            throw new ArgumentOutOfRangeException(nameof(action), $"{Id}: action must be in [0, {discrete.Count}), got {action}");
        EnsureRunning();
        return Finish(StepCore(action, observation.Span));
    }

    /// <summary>Takes a continuous action (a vector within the action box).</summary>
    public StepResult Step(ReadOnlySpan<float> action)
    {
        if (ActionSpace is not BoxSpace box)
            throw new InvalidOperationException($"{Id}: actions are discrete ({ActionSpace}); pass an integer");
        if (!box.Contains(action))
            throw new ArgumentOutOfRangeException(nameof(action), $"{Id}: action must be {box.Size} values within [{box.Low.Min()}, {box.High.Max()}], got [{string.Join(", ", action.ToArray())}]");
        EnsureRunning();
        return Finish(StepCore(action, observation.Span));
    }

    /// <summary>A picture of the current state, for people (not for agents).</summary>
    public virtual Frame Render() => throw new NotSupportedException($"{Id} cannot render");

    public void Save(StateWriter writer)
    {
        writer.Write(Id);
        writer.Write(random);
        writer.Write(seeded);
        writer.Write(episodeOver);
        writer.Write(elapsed);
        writer.Write<float>(observation.Span);
        SaveDynamics(writer);
    }

    public void Load(StateReader reader)
    {
        var id = reader.ReadString();
        if (id != Id) throw reader.Problem($"holds the state of {id}, not of {Id}");
        random = reader.ReadRandom();
        seeded = reader.ReadBoolean();
        episodeOver = reader.ReadBoolean();
        elapsed = reader.ReadInt32();
        reader.ReadInto(observation.Span);
        LoadDynamics(reader);
    }

    /// <summary>Writes every field of the dynamics that changes as the environment runs.</summary>
    protected abstract void SaveDynamics(StateWriter writer);

    /// <summary>Reads back what <see cref="SaveDynamics"/> wrote.</summary>
    protected abstract void LoadDynamics(StateReader reader);

    /// <summary>The environment's random stream, for the dynamics' own draws.</summary>
    protected ref EnvRandom Random => ref random;

    /// <summary>Starts an episode and writes its first observation.</summary>
    protected abstract void ResetCore(Span<float> observation);

    /// <summary>Advances by a discrete action (already checked) and writes the observation.</summary>
    protected virtual StepResult StepCore(int action, Span<float> observation) =>
        throw new NotSupportedException($"{Id} takes continuous actions");

    /// <summary>Advances by a continuous action (already checked) and writes the observation.</summary>
    protected virtual StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation) =>
        throw new NotSupportedException($"{Id} takes discrete actions");

    private void EnsureRunning()
    {
        if (episodeOver)
            throw new InvalidOperationException(seeded
                ? $"{Id}: the episode is over; call Reset before stepping again"
                : $"{Id}: reset with a seed before the first step, e.g. Reset(seed: 0)");
    }

    private StepResult Finish(StepResult result)
    {
        elapsed++;
        if (MaxEpisodeSteps is { } limit && elapsed >= limit) result = result with { Truncated = true };
        if (result.Done) episodeOver = true;
        return result;
    }
}
