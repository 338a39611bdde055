using System.Diagnostics;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Benchmarks;

/// <summary>Speed of one environment: steps per second on the calling thread, and bytes allocated per step.</summary>
public sealed record EnvironmentSpeed(string Id, int Copies, long Steps, double StepsPerSecond, double BytesPerStep);

/// <summary>
/// Measures environments under uniformly random actions, observations written every step, episodes
/// reset as they end: the simulator's cost alone, for `prunerl bench envs`.
/// </summary>
public static class EnvironmentBenchmark
{
    private const int Chunk = 4096;

    /// <summary>One copy stepped for about <paramref name="duration"/> after a short warm-up.</summary>
    public static EnvironmentSpeed Single(string id, TimeSpan duration, EnvironmentOptions? options = null)
    {
        var environment = EnvironmentRegistry.Create(id, options);
        environment.Reset(seed: 0);
        var actions = new ActionSource(environment.ActionSpace, copies: 1);
        void Run()
        {
            for (var k = 0; k < Chunk; k++)
            {
                var result = environment.ActionSpace is DiscreteSpace
                    ? environment.Step(actions.NextDiscrete()[0])
                    : environment.Step(actions.NextContinuous());
                if (result.Done) environment.Reset();
            }
        }
        return Measure(id, 1, duration, Run);
    }

    /// <summary>N copies stepped together for about <paramref name="duration"/>; speed counts every copy's step.</summary>
    public static EnvironmentSpeed Vectorised(string id, int copies, TimeSpan duration, EnvironmentOptions? options = null)
    {
        var vector = EnvironmentRegistry.CreateVector(id, copies, options);
        vector.Reset(seed: 0);
        var actions = new ActionSource(vector.ActionSpace, copies);
        void Run()
        {
            for (var k = 0; k < Chunk / copies + 1; k++)
                if (vector.ActionSpace is DiscreteSpace) vector.Step(actions.NextDiscrete());
                else vector.Step(actions.NextContinuous());
        }
        return Measure(id, copies, duration, Run, stepsPerRun: (Chunk / copies + 1) * copies);
    }

    private static EnvironmentSpeed Measure(string id, int copies, TimeSpan duration, Action run, long stepsPerRun = Chunk)
    {
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromMilliseconds(200)) run();
        var steps = 0L;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            run();
            steps += stepsPerRun;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return new EnvironmentSpeed(id, copies, steps, steps / seconds, (double)allocated / steps);
    }

    /// <summary>Uniformly random actions for N copies, drawn into buffers reused every step.</summary>
    private sealed class ActionSource(Space space, int copies)
    {
        private EnvRandom random = new(12345);
        private readonly int[] discrete = new int[copies];
        private readonly float[] continuous = new float[copies * (space is BoxSpace box ? box.Size : 0)];

        public ReadOnlySpan<int> NextDiscrete()
        {
            var count = ((DiscreteSpace)space).Count;
            for (var i = 0; i < discrete.Length; i++) discrete[i] = random.NextInt(count);
            return discrete;
        }

        public ReadOnlySpan<float> NextContinuous()
        {
            var box = (BoxSpace)space;
            for (var i = 0; i < continuous.Length; i++)
            {
                var j = i % box.Size;
                continuous[i] = (float)random.Uniform(box.Low[j], box.High[j]);
            }
            return continuous;
        }
    }
}
