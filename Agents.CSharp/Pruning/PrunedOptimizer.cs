using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Optimisers;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>
/// A flat optimizer that prunes, as JaxPruner's <c>wrap_optax</c> wraps an optax optimizer with an updater: one
/// object holds a network's optimizer and its mask policy (<see cref="IMaskPolicy"/>; none for a dense network), so
/// an agent builds one per network instead of wiring a pruner around its optimizer at every call. Before each
/// gradient update, <see cref="UpdateMasks"/> lets the policy recompute the masks when its schedule has a mask update
/// at this update (counted as the optimizer's steps so far: the run's gradient updates, JaxPruner's sparse-state
/// count), so the update's forward pass already sees them; every <see cref="Step"/> then counts pruned weights'
/// gradients as zero and, their state having been cleared at the mask update, leaves them at exactly zero.
/// Its checkpoint (<see cref="ICheckpointable"/>) is the optimizer's, as before; the masks are the
/// <see cref="Policy"/>'s own part, so an agent's checkpoint keeps the layout it had.
/// </summary>
public sealed class PrunedOptimizer : IFlatOptimizer
{
    private readonly IFlatOptimizer optimizer;

    /// <summary>The optimizer stepped with <paramref name="policy"/>'s masks (dense when null); it owns both.</summary>
    public PrunedOptimizer(IFlatOptimizer optimizer, IMaskPolicy? policy)
    {
        this.optimizer = optimizer;
        Policy = policy;
    }

    /// <summary>
    /// The optimizer over <paramref name="network"/>'s flat buffer pruned as <paramref name="setup"/> says: gradually
    /// (<see cref="MagnitudePruner"/>), or sparse from the start by its method (<see cref="SparseMaskPolicy"/>: static,
    /// lottery ticket, SET, RigL); dense when it is null. A setup the network cannot follow is an ArgumentException
    /// for <c>pruning</c> with the core's one-line error, after <paramref name="owner"/> when given ("actor: ...").
    /// </summary>
    public static PrunedOptimizer Create(nn.Module network, IFlatOptimizer optimizer, PruningSetup? setup, string? owner = null)
    {
        if (setup is null) return new PrunedOptimizer(optimizer, null);
        string? error;
        IMaskPolicy? policy = setup.Training is { Method.IsGMP: false } training
            ? SparseMaskPolicy.TryCreate(network, optimizer, setup, training, out error)
            : MagnitudePruner.TryCreate(network, optimizer, setup, out error);
        return new PrunedOptimizer(optimizer, policy ?? throw new ArgumentException(owner is null ? error : $"{owner}: {error}", "pruning"));
    }

    /// <summary>The optimizer underneath.</summary>
    public IFlatOptimizer Optimizer => optimizer;

    /// <summary>How the masks change over training; null for a dense network.</summary>
    public IMaskPolicy? Policy { get; }

    public FlatParameters Parameters => optimizer.Parameters;

    public long Steps => optimizer.Steps;

    public IReadOnlyList<Tensor> State => optimizer.State;

    /// <summary>Before a gradient update: the policy's mask update when one is due at this update; whether the masks changed.</summary>
    public bool UpdateMasks() => Policy?.Update(optimizer.Steps) ?? false;

    /// <summary>The optimizer's step with the policy's mask (or <paramref name="keep"/> when given), after the policy
    /// has seen the update's gradients.</summary>
    public void Step(Tensor? keep = null)
    {
        Policy?.BeforeStep(optimizer.Steps, optimizer.Parameters.Gradients);
        optimizer.Step(keep ?? Policy?.StepMask);
    }

    public void ZeroGrad() => optimizer.ZeroGrad();

    public void Save(StateWriter writer) => optimizer.Save(writer);

    public void Load(StateReader reader) => optimizer.Load(reader);

    public void Dispose()
    {
        Policy?.Dispose();
        optimizer.Dispose();
    }

    /// <summary>An agent's masks: whether its optimizers prune (they all do or none does), then each policy's state.</summary>
    public static void SaveMasks(StateWriter writer, params PrunedOptimizer[] optimizers)
    {
        writer.Write(optimizers[0].Policy is not null);
        foreach (var optimizer in optimizers) optimizer.Policy?.Save(writer);
    }

    /// <summary>Reads what <see cref="SaveMasks"/> wrote into the policies; a pruned agent's checkpoint for a dense
    /// agent, or the reverse, is refused before any mask is read.</summary>
    public static void LoadMasks(StateReader reader, params PrunedOptimizer[] optimizers)
    {
        var pruned = optimizers[0].Policy is not null;
        if (reader.ReadBoolean() != pruned)
            throw reader.Problem(pruned ? "holds a dense agent where a pruned one is expected" : "holds a pruned agent where a dense one is expected");
        foreach (var optimizer in optimizers) optimizer.Policy?.Load(reader);
    }
}
