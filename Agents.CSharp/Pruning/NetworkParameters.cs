using Prunerl.Core;
using static TorchSharp.torch;

namespace Prunerl.Agents.Pruning;

/// <summary>A network's parameters as the pure core sees them: name, shape and role.</summary>
public static class NetworkParameters
{
    /// <summary>
    /// Describes each named parameter: tensors of two or more dimensions are weights (matrices and
    /// kernels; a noisy layer's means and noise scales both), vectors named <c>bias</c> are biases (a noisy
    /// layer's <c>bias_mu</c> and <c>bias_sigma</c> too), other vectors belong to normalisation layers.
    /// </summary>
    public static IReadOnlyList<(Parameter Description, TorchSharp.Modules.Parameter Tensor)> Describe(nn.Module module) =>
        module.named_parameters()
            .Select(p => (new Parameter(p.name, p.parameter.shape.Select(d => (int)d).ToArray(), RoleOf(p.name, p.parameter)), p.parameter))
            .ToList();

    private static ParameterRole RoleOf(string name, Tensor tensor) =>
        tensor.dim() >= 2 ? ParameterRole.Weight
        : name[(name.LastIndexOf('.') + 1)..].StartsWith("bias", StringComparison.Ordinal) ? ParameterRole.Bias
        : ParameterRole.Normalization;
}
