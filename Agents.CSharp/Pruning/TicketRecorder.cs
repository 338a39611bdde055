using Prunerl.Agents.Checkpoints;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>
/// What a lottery ticket needs of a gradually pruned run (Frankle and Carbin 2019; Frankle et al. 2020, sec. 5), recorded
/// as the run goes: each pruned optimizer's flat weights at construction (before the first gradient update), and, when a
/// rewind step k &gt; 0 is asked for, at the first step boundary with at least k updates (the update count recorded with
/// them); <see cref="Write"/> adds the final masks and writes the ticket file (<see cref="TicketFile"/>). Its state (the
/// recorded weights) is a checkpoint section, so a resumed run writes the same ticket.
/// </summary>
public sealed class TicketRecorder : ICheckpointable, IDisposable
{
    private readonly IReadOnlyList<(string Name, PrunedOptimizer Optimizer)> networks;
    private readonly long rewindStep;
    private readonly Tensor[] initial;
    private readonly Tensor[] rewound;
    /// <summary>The updates taken when the rewound weights were recorded; -1 before (or without a rewind step).</summary>
    private long rewoundAt = -1;

    /// <summary>Records the networks' weights now (their initial weights); <paramref name="rewindStep"/> 0 for no rewind.</summary>
    public TicketRecorder(IReadOnlyList<(string Name, PrunedOptimizer Optimizer)> networks, long rewindStep)
    {
        if (rewindStep < 0) throw new ArgumentOutOfRangeException(nameof(rewindStep), $"the rewind step must be >= 0, got {rewindStep}");
        this.networks = networks;
        this.rewindStep = rewindStep;
        initial = networks.Select(n => Copy(n.Optimizer)).ToArray();
        rewound = networks.Select(n => zeros_like(n.Optimizer.Parameters.Values, device: CPU).DetachFromDisposeScope()).ToArray();
    }

    private static Tensor Copy(PrunedOptimizer optimizer)
    {
        using var _ = no_grad();
        return optimizer.Parameters.Values.detach().to(CPU, copy: true).DetachFromDisposeScope();
    }

    /// <summary>After an agent step, with the gradient updates taken so far: records the rewound weights once they reach the rewind step.</summary>
    public void Observe(long updates)
    {
        if (rewindStep == 0 || rewoundAt >= 0 || updates < rewindStep) return;
        using var _ = no_grad();
        for (var i = 0; i < networks.Count; i++) rewound[i].copy_(networks[i].Optimizer.Parameters.Values);
        rewoundAt = updates;
    }

    /// <summary>Writes the ticket: per network its parameters, the recorded weights and its final masks (the policy's step mask; all kept when nothing is pruned yet).</summary>
    public void Write(string path)
    {
        using var scope = NewDisposeScope();
        var recorded = networks.Select((n, i) =>
        {
            var mask = n.Optimizer.Policy?.StepMask is { } step ? step.to_type(ScalarType.Bool).cpu().data<bool>().ToArray()
                : Enumerable.Repeat(true, (int)n.Optimizer.Parameters.Values.numel()).ToArray();
            return new RecordedNetwork(n.Name, n.Optimizer.Parameters.Slices.Select(s => (s.Name, s.Length)).ToList(),
                initial[i].data<float>().ToArray(), rewoundAt, rewoundAt >= 0 ? rewound[i].data<float>().ToArray() : null, mask);
        }).ToList();
        TicketFile.Write(path, recorded);
    }

    public void Save(StateWriter writer)
    {
        foreach (var t in initial) writer.Write(t);
        writer.Write(rewoundAt);
        foreach (var t in rewound) writer.Write(t);
    }

    public void Load(StateReader reader)
    {
        foreach (var t in initial) reader.ReadInto(t);
        rewoundAt = reader.ReadInt64();
        foreach (var t in rewound) reader.ReadInto(t);
    }

    public void Dispose()
    {
        foreach (var t in initial.Concat(rewound)) t.Dispose();
    }
}
