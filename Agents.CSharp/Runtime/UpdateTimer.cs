using System.Diagnostics;
using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Runtime;

/// <summary>The parts of one gradient update, in the order the agent runs them.</summary>
public enum UpdatePhase
{
    /// <summary>The pruner's mask recomputation, when the schedule has one due.</summary>
    MaskUpdate,
    /// <summary>The batch into tensors, the target network's forward pass, the online one's, the loss.</summary>
    Forward,
    /// <summary>Clearing the gradients and backpropagation.</summary>
    Backward,
    /// <summary>The optimizer's step (with the pruner's mask when pruning).</summary>
    Optimizer,
    /// <summary>Reading the loss and the per-sample losses back.</summary>
    Readout,
}

/// <summary>
/// Accumulates the time an agent spends in each <see cref="UpdatePhase"/> over many updates (for
/// `prunerl bench update`); torch on CPU runs each op before returning, so a lap is that phase's time.
/// On a GPU, whose ops run after they are queued, each mark first waits for the device's queue.
/// </summary>
/// <param name="device">The device the timed agent runs on (null for the CPU).</param>
public sealed class UpdateTimer(Device? device = null)
{
    private readonly long[] ticks = new long[Enum.GetValues<UpdatePhase>().Length];
    private long last;

    /// <summary>Updates timed (calls of <see cref="Start"/>).</summary>
    public long Updates { get; private set; }

    /// <summary>Marks the start of an update.</summary>
    public void Start()
    {
        Updates++;
        Devices.Synchronize(device);
        last = Stopwatch.GetTimestamp();
    }

    /// <summary>Adds the time since the previous mark to <paramref name="phase"/>.</summary>
    public void Lap(UpdatePhase phase)
    {
        Devices.Synchronize(device);
        var now = Stopwatch.GetTimestamp();
        ticks[(int)phase] += now - last;
        last = now;
    }

    /// <summary>Mean microseconds per update spent in <paramref name="phase"/>.</summary>
    public double Microseconds(UpdatePhase phase) =>
        Updates == 0 ? 0 : ticks[(int)phase] * 1e6 / Stopwatch.Frequency / Updates;
}
