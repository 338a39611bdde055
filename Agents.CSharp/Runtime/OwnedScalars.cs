using TorchSharp;

namespace Prunerl.Agents.Runtime;

/// <summary>
/// The <see cref="Scalar"/>s torch ops take, each held by an owner that outlives the op: an object
/// holds one of these as a readonly field, makes its Scalars in its constructor and disposes them in its
/// Dispose; a call whose values change from call to call holds one in a <c>using</c> local for the call.
/// </summary>
/// <remarks>
/// Why: TorchSharp 0.107 converts a number to a native Scalar wherever an op takes one (<c>t * 0.5</c>,
/// <c>t.clamp(lo, hi)</c>, <c>t.masked_fill_(m, 0)</c>) and makes one itself for the alpha of every
/// <c>a + b</c> on tensors (<c>a.add(b)</c> is <c>a.add(b, 1)</c>). Nothing references that Scalar once its
/// handle has been read, so a garbage collection triggered by any thread can let the finalizer thread free
/// it (<c>~Scalar</c>, THSTorch_dispose_scalar) while the native op still reads it: a use-after-free,
/// rare per op and near certain over a long run's ~10^8 ops (upstream: dotnet/TorchSharp#1434 and #1496,
/// both open). A Scalar held here is reachable until its holder is disposed, so it outlives every op it is
/// given to. Each <c>Of</c> makes the Scalar of the type the implicit conversion of that .NET type makes
/// (int, long, float, double), so an op given it computes exactly what it computed with the conversion.
/// The same holds for tensors: a temporary that no dispose scope holds can be finalized during the next op,
/// so every path that makes temporaries runs inside <c>torch.NewDisposeScope()</c>.
/// </remarks>
public sealed class OwnedScalars : IDisposable
{
    private readonly List<Scalar> held = [];

    /// <summary>A new Scalar of the int <paramref name="value"/>, held until <see cref="Dispose"/>.</summary>
    public Scalar Of(int value) => Hold(value.ToScalar());

    /// <summary>A new Scalar of the long <paramref name="value"/>, held until <see cref="Dispose"/>.</summary>
    public Scalar Of(long value) => Hold(value.ToScalar());

    /// <summary>A new Scalar of the float <paramref name="value"/>, held until <see cref="Dispose"/>.</summary>
    public Scalar Of(float value) => Hold(value.ToScalar());

    /// <summary>A new Scalar of the double <paramref name="value"/>, held until <see cref="Dispose"/>.</summary>
    public Scalar Of(double value) => Hold(value.ToScalar());

    private Scalar Hold(Scalar scalar)
    {
        held.Add(scalar);
        return scalar;
    }

    /// <summary>Frees every Scalar made here (none may be in use by an op).</summary>
    public void Dispose()
    {
        foreach (var scalar in held) scalar.Dispose();
        held.Clear();
    }
}
