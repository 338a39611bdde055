using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Runtime;

/// <summary>
/// softplus(x) = log(1 + exp(beta x)) / beta (x itself where beta x > threshold) with Scalars the caller
/// holds (<see cref="OwnedScalars"/>). TorchSharp 0.107's public softplus takes doubles and converts them to
/// Scalars that nothing holds during the native call (dotnet/TorchSharp#1496 lists it); the private method
/// it calls is the same native op taking Scalars, reached here through a delegate made once.
/// </summary>
internal static class SoftplusWithScalars
{
    private static readonly Func<Tensor, Scalar, Scalar, Tensor> withScalars =
        typeof(Tensor).GetMethod("softplus1", BindingFlags.NonPublic | BindingFlags.Instance, [typeof(Scalar), typeof(Scalar)])
            ?.CreateDelegate<Func<Tensor, Scalar, Scalar, Tensor>>()
        ?? throw new MissingMethodException("TorchSharp's Tensor.softplus1(Scalar, Scalar), which softplus(double, double) calls, is not there: "
            + "a TorchSharp upgrade renamed it; find the softplus that takes Scalars and call that");

    /// <summary>softplus of <paramref name="x"/>, as <c>x.softplus(beta, threshold)</c> computes it.</summary>
    public static Tensor Of(Tensor x, Scalar beta, Scalar threshold) => withScalars(x, beta, threshold);
}
