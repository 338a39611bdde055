using Prunerl.Agents.Envs;
using Prunerl.Agents.Runtime;

namespace Prunerl.Agents.Inference;

/// <summary>One evaluation episode: its undiscounted return and its length in steps.</summary>
public readonly record struct EpisodeOutcome(double Return, int Length);

/// <summary>What receives the frames of evaluation episodes (a GIF recorder): it says which episodes it wants.</summary>
public interface IFrameSink
{
    /// <summary>Whether the frames of episode <paramref name="episode"/> (0 first) are wanted; asked before each frame is rendered.</summary>
    bool Wants(int episode);

    /// <summary>Receives a frame: the first after the reset, then one after each step.</summary>
    void Add(Frame frame);
}

/// <summary>Plays a trained policy for whole episodes in a fresh environment, as a run's evaluations do, episode after episode.</summary>
public static class PolicyEvaluation
{
    /// <summary>The index, among the streams derived from the seed (<see cref="EnvRandom.Derive"/>), of the policy's
    /// exploration draws. Training's streams take 1 to 12 (acting 1, sampling 2, a run's evaluations 3 and 4, analysis 5,
    /// baselines 6, noise 7, augmentation 8, SAC's networks and noise 10 to 12); evaluation's are its own.</summary>
    public const int PolicyStream = Runtime.SeedStreams.PolicyEvaluationActing;

    /// <summary>The index of the environment's seed among the streams derived from the seed.</summary>
    public const int EnvironmentStream = Runtime.SeedStreams.PolicyEvaluationEnvironment;

    /// <summary>Plays <paramref name="episodes"/> episodes with the environment and the policy's draws seeded from
    /// <paramref name="seed"/> (<see cref="EnvironmentStream"/>, <see cref="PolicyStream"/>).</summary>
    public static IReadOnlyList<EpisodeOutcome> Play(TrainedPolicy policy, Envs.Environment environment, int episodes, ulong seed, IFrameSink? frames = null) =>
        Play(policy, environment, episodes, EnvRandom.Derive(seed, EnvironmentStream), EnvRandom.Derive(seed, PolicyStream), frames);

    /// <summary>Plays <paramref name="episodes"/> episodes: the environment reset with <paramref name="environmentSeed"/>
    /// before the first and continuing its stream after, the policy drawing from a stream of <paramref name="policySeed"/>
    /// (a run's evaluation at step t takes Derive(seed ^ t, 4) and Derive(seed ^ t, 3)); each episode's return and length.</summary>
    public static IReadOnlyList<EpisodeOutcome> Play(TrainedPolicy policy, Envs.Environment environment, int episodes, ulong environmentSeed, ulong policySeed,
        IFrameSink? frames = null)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), $"episodes must be >= 1, got {episodes}");
        var random = new EnvRandom(policySeed);
        var outcomes = new List<EpisodeOutcome>(episodes);
        environment.Reset(environmentSeed);
        for (var episode = 0; episode < episodes; episode++)
        {
            if (episode > 0) environment.Reset();
            var recording = frames?.Wants(episode) == true;
            if (recording) frames!.Add(environment.Render());
            double total = 0;
            var length = 0;
            StepResult result;
            do
            {
                result = policy.Step(environment, ref random);
                total += result.Reward;
                length++;
                if (recording && frames!.Wants(episode)) frames.Add(environment.Render());
            } while (!result.Done);
            outcomes.Add(new EpisodeOutcome(total, length));
        }
        return outcomes;
    }
}
