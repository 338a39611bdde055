namespace Prunerl.Agents.Runtime;

/// <summary>
/// The environments' random numbers: xoshiro256** (Blackman and Vigna 2018) seeded through SplitMix64,
/// a value type so that stepping never allocates and the same seed gives the same stream everywhere.
/// </summary>
public struct EnvRandom
{
    private ulong s0, s1, s2, s3;

    public EnvRandom(ulong seed)
    {
        s0 = SplitMix64(ref seed);
        s1 = SplitMix64(ref seed);
        s2 = SplitMix64(ref seed);
        s3 = SplitMix64(ref seed);
    }

    /// <summary>The generator's position (its four words), for checkpoints.</summary>
    internal (ulong S0, ulong S1, ulong S2, ulong S3) State => (s0, s1, s2, s3);

    /// <summary>A generator at a position read back from <see cref="State"/>.</summary>
    internal static EnvRandom FromState(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        var random = default(EnvRandom);
        (random.s0, random.s1, random.s2, random.s3) = (s0, s1, s2, s3);
        return random;
    }

    /// <summary>SplitMix64 (Steele et al. 2014): also how per-copy seeds are derived from one seed.</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The seed of copy <paramref name="index"/> of a family of environments seeded with <paramref name="seed"/>.</summary>
    public static ulong Derive(ulong seed, int index)
    {
        var state = seed ^ (0xD1B54A32D192ED03UL * (ulong)(index + 1));
        return SplitMix64(ref state);
    }

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>A standard normal draw (Box-Muller from two uniform draws; the second normal of the pair is
    /// not kept, so the generator stays the only state).</summary>
    public double StandardNormal()
    {
        var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - NextDouble()));
        return radius * Math.Cos(2.0 * Math.PI * NextDouble());
    }

    /// <summary>Uniform integer in [0, n), without modulo bias (Lemire 2019).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"n must be > 0, got {n}");
        var bound = (ulong)n;
        var product = Math.BigMul(NextUInt64(), bound, out var low);
        if (low < bound)
        {
            var threshold = (0 - bound) % bound;
            while (low < threshold) product = Math.BigMul(NextUInt64(), bound, out low);
        }
        return (int)product;
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => NextDouble() < p;
}
