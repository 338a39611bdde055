namespace Prunerl.Agents.Checkpoints;

/// <summary>
/// Something whose whole state can be written and later read back into a fresh instance built with the
/// same configuration, so that it then behaves exactly as the original would have: every field that
/// changes as it runs (random streams included), none of its configuration.
/// </summary>
public interface ICheckpointable
{
    /// <summary>Writes the state.</summary>
    void Save(StateWriter writer);

    /// <summary>Replaces the state with one written by <see cref="Save"/> on an instance of the same configuration.</summary>
    void Load(StateReader reader);
}
