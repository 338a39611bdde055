namespace Prunerl.Agents.Checkpoints;

/// <summary>The state of one object as bytes in memory: for copying a state, and for tests of a Save/Load pair.</summary>
public static class Snapshot
{
    /// <summary>The object's state as <see cref="ICheckpointable.Save"/> writes it.</summary>
    public static byte[] Capture(ICheckpointable state)
    {
        using var memory = new MemoryStream();
        state.Save(new StateWriter(memory));
        return memory.ToArray();
    }

    /// <summary>Loads a captured state into an object of the same configuration; it must read all of it.</summary>
    public static void Restore(ICheckpointable state, byte[] bytes)
    {
        using var memory = new MemoryStream(bytes, writable: false);
        var reader = new StateReader(memory, bytes.Length, "snapshot");
        state.Load(reader);
        reader.ExpectEnd();
    }
}
