using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Replay;

/// <summary>
/// A replay memory fed one vector step at a time and sampled in preallocated batches of n-step
/// transitions; managed memory only (the agent copies a batch into tensors once). Its whole state
/// (stored transitions, cursors, sampling structures) can be saved and loaded into a fresh memory of the same options.
/// </summary>
public interface IReplayMemory : ICheckpointable
{
    /// <summary>Slots over all copies; a slot holds a transition, or an ended episode's final observation.</summary>
    int Capacity { get; }
    /// <summary>Transitions held.</summary>
    int Count { get; }
    /// <summary>Transitions whose n-step window is complete, the ones that can be sampled.</summary>
    int SampleableCount { get; }

    /// <summary>
    /// Stores one step of a vectorised environment of N copies: observations (N x size) are the ones
    /// the actions were taken in; finalObservations (N x size, the vector environment's
    /// FinalObservations) are read for the copies whose episode ended at this step.
    /// </summary>
    void Add(ReadOnlySpan<float> observations, ReadOnlySpan<int> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations);

    /// <summary>As the discrete overload, for continuous actions: copy i's action vector is actions[i * ActionWidth ..] (<see cref="ReplayOptions.ActionWidth"/>).</summary>
    void Add(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalObservations);

    /// <summary>Fills <paramref name="into"/> with <paramref name="batchSize"/> transitions drawn with replacement; allocates nothing.</summary>
    void Sample(int batchSize, ref EnvRandom random, ReplayBatch into);
}
