namespace Prunerl.Agents.Envs;

/// <summary>Per-environment options; each family reads the ones that concern it.</summary>
/// <param name="StickyActionProbability">MinAtar: probability that the previous action repeats (default 0.1).</param>
/// <param name="DifficultyRamping">MinAtar: whether games get harder as they go (default on).</param>
/// <param name="MinimalActionSet">MinAtar: only the game's own actions instead of all six (default off, as the reference).</param>
public sealed record EnvironmentOptions(double StickyActionProbability = 0.1, bool DifficultyRamping = true, bool MinimalActionSet = false)
{
    public static readonly EnvironmentOptions Default = new();
}

/// <summary>One registered environment: its id and how to make it.</summary>
/// <param name="Id">The registry id, e.g. <c>cartpole</c>.</param>
/// <param name="Description">One line for listings.</param>
/// <param name="Create">Makes a new copy with the given options.</param>
/// <param name="Unavailable">Null when the environment can run here; otherwise one line saying what is
/// missing (for example a physics engine) and how to install it. Null for environments that always can.</param>
public sealed record EnvironmentEntry(string Id, string Description, Func<EnvironmentOptions, Environment> Create, Func<string?>? Unavailable = null)
{
    /// <summary>Why this environment cannot run here, or null when it can.</summary>
    public string? UnavailableReason => Unavailable?.Invoke();
}

/// <summary>Every environment by id, as Gymnasium's registry: <c>Create("minatar/breakout")</c>.</summary>
public static class EnvironmentRegistry
{
    /// <summary>The registered environments, in the order they are listed.</summary>
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
        ClassicControl.ClassicControlSuite.Entries.Concat(MinAtar.MinAtarSuite.Entries).Concat(MuJoCo.MujocoSuite.Entries).ToList();

    public static IReadOnlyList<string> Ids { get; } = Entries.Select(e => e.Id).ToList();

    /// <summary>A new environment; an unknown id is an ArgumentException naming the known ones, and one that
    /// cannot run here an <see cref="EnvironmentUnavailableException"/> saying why.</summary>
    public static Environment Create(string id, EnvironmentOptions? options = null)
    {
        var entry = Entries.FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown environment '{id}'; known: {string.Join(", ", Ids)}", nameof(id));
        var checkedOptions = options ?? EnvironmentOptions.Default;
        if (!(checkedOptions.StickyActionProbability is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"sticky_action_probability must be in [0, 1], got {checkedOptions.StickyActionProbability}");
        return entry.Create(checkedOptions);
    }

    /// <summary>N copies of an environment stepped together (see VectorEnvironment).</summary>
    public static VectorEnvironment CreateVector(string id, int count, EnvironmentOptions? options = null, Memory<float>? buffer = null)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"count must be >= 1, got {count}");
        return new VectorEnvironment(Enumerable.Range(0, count).Select(_ => Create(id, options)).ToList(), buffer);
    }
}
