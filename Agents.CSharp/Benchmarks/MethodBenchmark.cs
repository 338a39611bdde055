using System.Diagnostics;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Pruning;
using Prunerl.Agents.Training;
using Prunerl.Core;
using Prunerl.Agents.Optimisers;
using static TorchSharp.torch;
using Prunerl.Experiments;

namespace Prunerl.Agents.Benchmarks;

/// <summary>
/// What sparse training costs per update on one network, in microseconds: a dense update (forward, backward and
/// Adam step on a batch), the same update stepped with a static mask (static, lottery ticket, and SET and RigL between
/// rewirings), and one SET and one RigL rewiring (<see cref="SparseMaskPolicy.BeforeStep"/> at a rewiring step), with
/// the overhead of each method against dense, its rewirings amortised at JaxPruner's period (5000 updates).
/// </summary>
public sealed record MethodCosts(string Network, long Parameters, double Sparsity, double Dense, double Masked, double SetRewiring, double RigLRewiring)
{
    /// <summary>JaxPruner's rewiring period for dynamic sparse training (DropFraction.jaxPrunerSpec).</summary>
    public const long RewiringPeriod = 5000;

    /// <summary>A static mask's (or a lottery ticket's) update against a dense one, minus 1.</summary>
    public double StaticOverhead => Masked / Dense - 1;

    /// <summary>SET's update against a dense one, its rewiring amortised over the period, minus 1.</summary>
    public double SetOverhead => (Masked + SetRewiring / RewiringPeriod) / Dense - 1;

    /// <summary>RigL's update against a dense one, its rewiring amortised over the period, minus 1.</summary>
    public double RigLOverhead => (Masked + RigLRewiring / RewiringPeriod) / Dense - 1;

    /// <summary>One SET rewiring in dense updates (the issue asks for no more than a few).</summary>
    public double SetRewiringInUpdates => SetRewiring / Dense;

    /// <summary>One RigL rewiring in dense updates.</summary>
    public double RigLRewiringInUpdates => RigLRewiring / Dense;
}

/// <summary>
/// Times the sparse-training methods' per-update costs (<see cref="MethodCosts"/>) on the paper's networks: the MinAtar
/// network at widths 1 and 3 and SAC's 256-256 MLP (as a critic: 17 observations plus 6 actions in, one value out, a
/// HalfCheetah's sizes), each at 95% with ERK. Timings are medians of repeated blocks on the threads already set.
/// </summary>
public static class MethodBenchmark
{
    private const int Batch = 32;

    /// <summary>The networks the comparison runs on: name, spec, observation shape, outputs.</summary>
    public static IReadOnlyList<(string Name, NetworkSpec Spec, int[] Observation, int Outputs)> PaperNetworks { get; } =
    [
        ("MinAtar x1", new NetworkSpec(NetworkKind.MinAtar, Width: 1.0), [4, 10, 10], 6),
        ("MinAtar x3", new NetworkSpec(NetworkKind.MinAtar, Width: 3.0), [4, 10, 10], 6),
        ("SAC critic 256-256", new NetworkSpec(NetworkKind.Mlp, MlpHidden: [256, 256]), [23], 1),
    ];

    /// <summary>Measures one network for about <paramref name="repeats"/> blocks of <paramref name="block"/> updates per phase.</summary>
    public static MethodCosts Measure(string name, NetworkSpec spec, int[] observation, int outputs, int repeats = 5, int block = 10, double sparsity = 0.95)
    {
        using var network = new QNetwork(spec, observation, outputs, 1);
        using var flat = new FlatParameters(network);
        using var adam = new FlatAdam(flat);
        using var input = rand([Batch, .. observation.Select(d => (long)d)]);
        var setup = new PruningSetup(ScheduleModule.constant(sparsity).ResultValue, Allocation.NewLayerWise(Distribution.NewErk(1.0)), Sparsity.paperScope);
        var drop = new DropSchedule(0.3, DropAnneal.CosineDrop, 1, 1_000_000, 1);

        void Update(Tensor? keep)
        {
            using var scope = NewDisposeScope();
            flat.ZeroGrad();
            var q = network.forward(input);
            q.mul(q).mean().backward();
            adam.Step(keep);
        }

        var dense = Median(repeats, block, () => Update(null));
        using var set = Policy(network, adam, setup, new SparseTraining(SparseMethod.SET, StaticInit.RandomInit, drop, 1));
        var masked = Median(repeats, block, () => Update(set.StepMask));
        var setRewiring = Median(repeats, 1, () => set.BeforeStep(1, flat.Gradients));
        set.Dispose();
        using var rigl = Policy(network, adam, setup, new SparseTraining(SparseMethod.RigL, StaticInit.RandomInit, drop, 1));
        Update(rigl.StepMask);
        var riglRewiring = Median(repeats, 1, () => rigl.BeforeStep(1, flat.Gradients));
        return new MethodCosts(name, flat.Count, sparsity, dense, masked, setRewiring, riglRewiring);
    }

    private static SparseMaskPolicy Policy(QNetwork network, FlatAdam adam, PruningSetup setup, SparseTraining training) =>
        SparseMaskPolicy.TryCreate(network, adam, setup, training, out var error) ?? throw new InvalidOperationException(error);

    /// <summary>The median over <paramref name="repeats"/> blocks of microseconds per call, after one warm-up block.</summary>
    private static double Median(int repeats, int block, Action action)
    {
        for (var i = 0; i < block; i++) action();
        var times = new double[repeats];
        for (var r = 0; r < repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < block; i++) action();
            times[r] = watch.Elapsed.TotalMicroseconds / block;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
