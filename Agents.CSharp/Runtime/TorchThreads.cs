using static TorchSharp.torch;

namespace Prunerl.Agents.Runtime;

/// <summary>
/// How many intra-op threads torch uses to train a network by default (`--threads` overrides it).
/// OMP_NUM_THREADS, when set, is the default (a sweep sets it to 1 for each of its workers). Otherwise,
/// measured with `prunerl bench update` on a 2-core machine (README, 'Benchmarks'): under
/// <see cref="SmallNetwork"/> parameters a batch-32 update is too small to split (a second thread gained
/// from nothing to a fifth when the machine was idle, and cost several times over when the other core was
/// busy, torch's worker spinning for it), so one thread; above it, two threads take about 30% off an
/// update. More than two were not measured, so the default stops there. torch's inter-op pool is left
/// alone: eager ops never use it.
/// </summary>
public static class TorchThreads
{
    /// <summary>Networks with fewer parameters than this train on one thread.</summary>
    public const long SmallNetwork = 500_000;

    /// <summary>The most threads the default asks for.</summary>
    public const int MaxDefault = 2;

    /// <summary>The default thread count for training a network with this many parameters: OMP_NUM_THREADS when set, else by size, at most the machine's cores.</summary>
    public static int For(long parameters) =>
        int.TryParse(System.Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out var set) && set >= 1 ? set
        : parameters < SmallNetwork ? 1
        : Math.Min(MaxDefault, System.Environment.ProcessorCount);
}
