namespace Prunerl.Agents.Runtime;

/// <summary>
/// The one registry of the random streams a run derives from its seed: stream <c>i</c>'s seed is
/// <see cref="EnvRandom.Derive"/>(seed, i), so every consumer names its index here and a new consumer takes a
/// free one. The values are those the runs have always used: changing one changes every run's numbers (and
/// the recorded runs in tests/runs/ would no longer match). Two families of seeds sit beside these: the
/// environment copies are seeded with Derive(seed, copy) for copy 0, 1, ... (<c>VectorEnvironment.Reset</c>),
/// and each evaluation derives its streams from seed XOR step; the DQN family's networks are initialised from
/// the run's seed itself.
/// </summary>
public static class SeedStreams
{
    /// <summary>Exploration: epsilon-greedy choices (DQN family) and SAC's uniform warm-up actions.</summary>
    public const int Acting = 1;

    /// <summary>Replay sampling of training batches.</summary>
    public const int Sampling = 2;

    /// <summary>An evaluation's epsilon_eval choices (derived from seed XOR step).</summary>
    public const int EvaluationActing = 3;

    /// <summary>An evaluation environment's reset (derived from seed XOR step).</summary>
    public const int EvaluationEnvironment = 4;

    /// <summary>The analysis' draws of states from replay (measuring never changes the run).</summary>
    public const int Analysis = 5;

    /// <summary>A baseline's fresh weights (Reset, ReDo).</summary>
    public const int Baseline = 6;

    /// <summary>Noisy nets' noise (DQN family).</summary>
    public const int Noise = 7;

    /// <summary>DrQ's random shifts and intensity noise.</summary>
    public const int Augmentation = 8;

    /// <summary>SAC's actor's initial weights.</summary>
    public const int SacActor = 10;

    /// <summary>SAC's critics' (and their targets') initial weights.</summary>
    public const int SacCritics = 11;

    /// <summary>SAC's actor's sampling noise.</summary>
    public const int SacNoise = 12;

    /// <summary>`prunerl evaluate`'s epsilon-greedy draws (Inference.PolicyEvaluation).</summary>
    public const int PolicyEvaluationActing = 13;

    /// <summary>`prunerl evaluate`'s environment seed (Inference.PolicyEvaluation).</summary>
    public const int PolicyEvaluationEnvironment = 14;

    /// <summary>A sparse-training method's draws (static and SET masks at initialisation, SET's regrowth), one
    /// sub-stream per network the agent prunes (<see cref="Pruning.SparseTraining.ForNetwork"/>).</summary>
    public const int SparseMasks = 15;

    /// <summary>The seed of stream <paramref name="stream"/> of a run seeded with <paramref name="seed"/>.</summary>
    public static ulong Seed(long seed, int stream) => EnvRandom.Derive((ulong)seed, stream);

    /// <summary>A generator on stream <paramref name="stream"/> of a run seeded with <paramref name="seed"/>.</summary>
    public static EnvRandom Random(long seed, int stream) => new(Seed(seed, stream));
}
