using System.Numerics;
using static TorchSharp.torch;

namespace Prunerl.Agents.Training;

/// <summary>
/// RMSprop (Hinton, Coursera lecture 6e) on a flat buffer, in PyTorch's formulation (torch.optim.RMSprop,
/// no momentum, no weight decay): with gradient g, s = α·s + (1-α)·g²; centered, also a = α·a + (1-α)·g
/// and the denominator is √(s - a²) + ε, otherwise √s + ε; θ -= lr · g / denominator. Defaults are
/// PyTorch's; the MinAtar reference DQN uses lr 2.5e-4, α 0.95, centered, ε 0.01. On CPU a step is one
/// fused pass over the buffers (<see cref="FlatKernel"/>), elsewhere torch ops.
/// </summary>
public sealed class FlatRmsProp : IFlatOptimizer
{
    private readonly double learningRate, alpha, epsilon;
    /// <summary>Scratch for the denominator: a new 0.5 MB tensor per step costs more than the step's ops.</summary>
    private readonly Tensor denominator;

    public FlatRmsProp(FlatParameters parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8, bool centered = false)
    {
        if (!(learningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"learning rate must be >= 0, got {learningRate}");
        if (!(alpha is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be in [0, 1], got {alpha}");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), $"epsilon must be >= 0, got {epsilon}");
        Parameters = parameters;
        this.learningRate = learningRate;
        this.alpha = alpha;
        this.epsilon = epsilon;
        SquareAvg = zeros_like(parameters.Values);
        GradAvg = centered ? zeros_like(parameters.Values) : null;
        denominator = empty_like(parameters.Values);
        State = GradAvg is null ? [SquareAvg] : [SquareAvg, GradAvg];
    }

    public FlatParameters Parameters { get; }
    public long Steps { get; private set; }
    public IReadOnlyList<Tensor> State { get; }

    /// <summary>The running mean of the squared gradients, s.</summary>
    public Tensor SquareAvg { get; }

    /// <summary>The running mean of the gradients, a (centered only).</summary>
    public Tensor? GradAvg { get; }

    /// <summary>Takes every step with torch ops even where the fused loop applies (to check one against the other).</summary>
    internal bool TorchOpsOnly { get; set; }

    public void Step(Tensor? keep = null)
    {
        Steps++;
        var gradient = Parameters.Gradients;
        if (!TorchOpsOnly && FlatKernel.Applies(Parameters.Values, gradient, SquareAvg, GradAvg, keep))
        {
            FlatKernel.Run(Parameters.Count, (start, length) => Fused(start, length, keep));
            return;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (keep is not null) gradient.mul_(keep);
        SquareAvg.mul_(alpha).addcmul_(gradient, gradient, value: 1 - alpha);
        denominator.copy_(SquareAvg);
        if (GradAvg is not null)
        {
            GradAvg.mul_(alpha).add_(gradient, alpha: 1 - alpha);
            denominator.addcmul_(GradAvg, GradAvg, value: -1);
        }
        denominator.sqrt_().add_(epsilon);
        Parameters.Values.addcdiv_(gradient, denominator, value: -learningRate);
    }

    /// <summary>
    /// The step over entries [start, start + length), each read and written once, rounding as torch's ops
    /// above do (add with alpha is a fused multiply-add there; addcmul and addcdiv are not).
    /// </summary>
    private void Fused(int start, int length, Tensor? keep)
    {
        var values = FlatKernel.Floats(Parameters.Values).Slice(start, length);
        var gradients = FlatKernel.Floats(Parameters.Gradients).Slice(start, length);
        var squares = FlatKernel.Floats(SquareAvg).Slice(start, length);
        var centered = GradAvg is not null;
        var means = centered ? FlatKernel.Floats(GradAvg!).Slice(start, length) : default;
        var masked = keep is not null;
        var kept = masked ? FlatKernel.Floats(keep!).Slice(start, length) : default;
        float a = (float)alpha, c = (float)(1 - alpha), eps = (float)epsilon, rate = (float)-learningRate;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> va = new(a), vc = new(c), ve = new(eps), vr = new(rate);
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var at = (nuint)i;
                var g = Vector.LoadUnsafe(ref gradients[0], at);
                if (masked) g *= Vector.LoadUnsafe(ref kept[0], at);
                var s = Vector.LoadUnsafe(ref squares[0], at) * va + vc * g * g;
                s.StoreUnsafe(ref squares[0], at);
                if (centered)
                {
                    var m = Vector.FusedMultiplyAdd(g, vc, Vector.LoadUnsafe(ref means[0], at) * va);
                    m.StoreUnsafe(ref means[0], at);
                    s -= m * m;
                }
                (Vector.LoadUnsafe(ref values[0], at) + vr * g / (Vector.SquareRoot(s) + ve)).StoreUnsafe(ref values[0], at);
            }
        }
        for (; i < length; i++)
        {
            var g = masked ? gradients[i] * kept[i] : gradients[i];
            var s = squares[i] = squares[i] * a + c * g * g;
            if (centered)
            {
                var m = means[i] = MathF.FusedMultiplyAdd(g, c, means[i] * a);
                s -= m * m;
            }
            values[i] += rate * g / (MathF.Sqrt(s) + eps);
        }
    }

    public void ZeroGrad() => Parameters.ZeroGrad();

    public void Dispose()
    {
        SquareAvg.Dispose();
        GradAvg?.Dispose();
        denominator.Dispose();
    }
}
