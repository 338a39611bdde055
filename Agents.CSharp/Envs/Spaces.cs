namespace Prunerl.Agents.Envs;

/// <summary>The set of valid observations or actions, as in Gymnasium.</summary>
public abstract record Space;

/// <summary>Actions 0 .. Count - 1.</summary>
public sealed record DiscreteSpace(int Count) : Space
{
    public bool Contains(int action) => (uint)action < (uint)Count;
    public override string ToString() => $"Discrete({Count})";
}

/// <summary>Real vectors of a shape (channels first for images), each entry within [Low, High].</summary>
public sealed record BoxSpace(float[] Low, float[] High, int[] Shape) : Space
{
    /// <summary>A box with the same bounds for every entry.</summary>
    public static BoxSpace Uniform(float low, float high, params int[] shape)
    {
        var size = shape.Aggregate(1, (n, d) => n * d);
        return new BoxSpace(Enumerable.Repeat(low, size).ToArray(), Enumerable.Repeat(high, size).ToArray(), shape);
    }

    /// <summary>Number of entries (the product of the shape).</summary>
    public int Size => Low.Length;

    /// <summary>Whether every entry is a number within its bounds.</summary>
    public bool Contains(ReadOnlySpan<float> value)
    {
        if (value.Length != Size) return false;
        for (var i = 0; i < value.Length; i++)
            if (!(value[i] >= Low[i] && value[i] <= High[i])) return false;
        return true;
    }

    public override string ToString() => $"Box([{string.Join(", ", Shape)}])";
}

/// <summary>What one step did: the reward, and whether the episode ended by the task's rules
/// (terminated) or by a time limit (truncated), as in Gymnasium.</summary>
public readonly record struct StepResult(float Reward, bool Terminated, bool Truncated)
{
    public bool Done => Terminated || Truncated;
}
