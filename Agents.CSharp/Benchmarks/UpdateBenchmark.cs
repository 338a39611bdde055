using System.Diagnostics;
using Prunerl.Agents.Training;
using Prunerl.Agents.Agents;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Replay;
using Prunerl.Core;
using Prunerl.Experiments;
using Prunerl.Agents.Pruning;
using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Benchmarks;

/// <summary>Mean microseconds per update in each phase, and in the whole call.</summary>
public sealed record PhaseTimes(double MaskUpdate, double Forward, double Backward, double Optimizer, double Readout, double Total)
{
    internal static PhaseTimes Of(UpdateTimer timer, double totalMicroseconds) => new(
        timer.Microseconds(UpdatePhase.MaskUpdate), timer.Microseconds(UpdatePhase.Forward), timer.Microseconds(UpdatePhase.Backward),
        timer.Microseconds(UpdatePhase.Optimizer), timer.Microseconds(UpdatePhase.Readout),
        totalMicroseconds / Math.Max(1, timer.Updates));
}

/// <summary>
/// Where a training update's time goes for one network on one thread count: dense and pruned to 90%, with
/// the optimizer's fused step (<see cref="Dense"/>, <see cref="Pruned"/>) and with torch ops and a separate
/// gradient mask multiply (<see cref="DenseTorchOps"/>, <see cref="PrunedTorchOps"/>, the form before the
/// fused step). <paramref name="MaskRecompute"/> is one mask recomputation (the paper's schedule does one
/// every 1000 updates); <paramref name="Act"/> one greedy action at batch 1, <paramref name="Sample"/> one
/// replay batch; all in microseconds.
/// </summary>
public sealed record UpdateBreakdown(
    NetworkKind Torso, double Width, int Threads, long Parameters, long Updates,
    PhaseTimes Dense, PhaseTimes Pruned, PhaseTimes DenseTorchOps, PhaseTimes PrunedTorchOps,
    double MaskRecompute, double Act, double Sample)
{
    /// <summary>The paper's mask update period, in gradient updates.</summary>
    public const long PaperMaskPeriod = 1000;

    /// <summary>How much longer a pruned update takes than a dense one, mask recomputations amortised at the paper's period.</summary>
    public double PruningOverhead => Overhead(Dense, Pruned);

    /// <summary>The same with torch-op optimizer steps and a gradient mask pass.</summary>
    public double TorchOpsPruningOverhead => Overhead(DenseTorchOps, PrunedTorchOps);

    private double Overhead(PhaseTimes dense, PhaseTimes pruned) => (pruned.Total + MaskRecompute / PaperMaskPeriod) / dense.Total - 1;
}

/// <summary>
/// Times the agent's own update (<see cref="DqnAgent.Update"/> with an <see cref="UpdateTimer"/>) on
/// batches replayed from random-policy transitions, for `prunerl bench update`. Four agents (dense and
/// pruned, fused and torch-op steps) take turns in blocks of 10 updates, so a busy machine slows them
/// alike; each reports its median block.
/// </summary>
public static class UpdateBenchmark
{
    private const int Block = 10;
    private const int WarmUp = 20;

    /// <summary>
    /// Measures for about <paramref name="seconds"/> per agent on the torch threads already set
    /// (<paramref name="threads"/> is recorded, not applied), the agents on <paramref name="device"/> (the
    /// CPU when null; off the CPU both optimizer forms take torch ops, and each phase waits for the device).
    /// </summary>
    public static UpdateBreakdown Measure(string environment, NetworkSpec network, AgentConfig config, int threads, double seconds, long seed = 0, Device? device = null)
    {
        var vector = EnvironmentRegistry.CreateVector(environment, 1);
        var replay = DqnTraining.MakeReplay(new RunSpec(environment, new DqnFamily(config), network, 0, seed), config, vector);
        var actionCount = ((DiscreteSpace)vector.ActionSpace).Count;
        var random = SeedStreams.Random(seed, SeedStreams.Acting);
        FillRandomly(vector, replay, actionCount, Math.Max(config.BatchSize, 1000), ref random, seed);

        var shape = vector.ObservationSpace.Shape;
        DqnAgent Agent(bool pruned, bool torchOps)
        {
            return new DqnAgent(config, network, shape, actionCount, pruned ? NinetyPercent() : null, seed, device: device) { TorchOpsOnly = torchOps };
        }
        var agents = new[] { Agent(false, false), Agent(true, false), Agent(false, true), Agent(true, true) };
        try
        {
            var batch = new ReplayBatch(config.BatchSize, vector.ObservationSize);
            var sampleClock = new Stopwatch();
            (UpdateTimer Timer, double Microseconds) RunBlock(DqnAgent agent, int updates)
            {
                var timer = new UpdateTimer(device);
                var clock = new Stopwatch();
                for (var i = 0; i < updates; i++)
                {
                    sampleClock.Start();
                    replay.Sample(config.BatchSize, ref random, batch);
                    sampleClock.Stop();
                    clock.Start();
                    agent.Update(batch, timer);
                    clock.Stop();
                }
                return (timer, clock.Elapsed.TotalMicroseconds);
            }
            foreach (var agent in agents) RunBlock(agent, WarmUp);
            sampleClock.Reset();
            var blocks = agents.Select(_ => new List<(UpdateTimer Timer, double Microseconds)>()).ToArray();
            var elapsed = Stopwatch.StartNew();
            while (blocks[0].Count < 3 || elapsed.Elapsed.TotalSeconds < agents.Length * seconds)
                for (var k = 0; k < agents.Length; k++) blocks[k].Add(RunBlock(agents[k], Block));
            PhaseTimes Median(int k)
            {
                var median = blocks[k].OrderBy(b => b.Microseconds).ElementAt(blocks[k].Count / 2);
                return PhaseTimes.Of(median.Timer, median.Microseconds);
            }
            var updates = (long)blocks[0].Count * Block;
            return new UpdateBreakdown(
                network.Torso, network.Width, threads, agents[0].Optimizer.Parameters.Count, updates,
                Median(0), Median(1), Median(2), Median(3),
                MaskRecompute(agents[1]), Act(agents[0], vector), sampleClock.Elapsed.TotalMicroseconds / (agents.Length * updates));
        }
        finally
        {
            foreach (var agent in agents) agent.Dispose();
        }
    }

    /// <summary>90% sparsity (uniform over the weights) from the first update, masks recomputed every 1000 updates.</summary>
    private static PruningSetup NinetyPercent()
    {
        var paper = ScheduleModule.paperSpec(0.9);
        var spec = new GradualSpec(0.9, 0.9, paper.Shape, StepPoint.NewAbsolute(0), StepPoint.NewFraction(1.0), UpdateBreakdown.PaperMaskPeriod, paper.Counting);
        var schedule = ScheduleModule.gradual(1_000_000, spec);
        return new PruningSetup(schedule.ResultValue, Allocation.NewLayerWise(Distribution.Uniform), Sparsity.paperScope);
    }

    /// <summary>Mean microseconds of the pruner's mask recomputation at its next due step (three of them).</summary>
    private static double MaskRecompute(DqnAgent agent)
    {
        var due = (agent.Updates / UpdateBreakdown.PaperMaskPeriod + 1) * UpdateBreakdown.PaperMaskPeriod;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++) agent.Pruner!.Update(due);
        Runtime.Devices.Synchronize(agent.Device);
        return clock.Elapsed.TotalMicroseconds / 3;
    }

    /// <summary>Mean microseconds of one greedy action at batch 1 over a fixed observation.</summary>
    private static double Act(DqnAgent agent, VectorEnvironment vector)
    {
        var observation = vector.Observations.ToArray();
        var random = new EnvRandom(1);
        var action = new int[1];
        const int calls = 500;
        for (var i = 0; i < calls / 10; i++) agent.Act(observation, 0, ref random, action);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) agent.Act(observation, 0, ref random, action);
        return clock.Elapsed.TotalMicroseconds / calls;
    }

    private static void FillRandomly(VectorEnvironment vector, IReplayMemory replay, int actionCount, int steps, ref EnvRandom random, long seed)
    {
        var observations = new float[vector.Observations.Length];
        var action = new int[1];
        vector.Reset((ulong)seed);
        for (var i = 0; i < steps; i++)
        {
            vector.Observations.CopyTo(observations);
            action[0] = random.NextInt(actionCount);
            vector.Step(action);
            replay.Add(observations, action, vector.Rewards, vector.Terminated, vector.Truncated, vector.FinalObservations);
        }
    }
}
