using System.Numerics;
using static TorchSharp.torch;

namespace Prunerl.Agents.Training;

/// <summary>
/// Adam (Kingma &amp; Ba 2015) on a flat buffer, in PyTorch's formulation (torch.optim.Adam, no weight
/// decay, no AMSGrad): at step t with gradient g,
/// m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g², θ -= lr/(1-β1^t) · m / (√v/√(1-β2^t) + ε).
/// Defaults are PyTorch's; Dopamine's DQN uses lr 6.25e-5, ε 1.5e-4. On CPU a step is one fused pass over
/// the buffers (<see cref="FlatKernel"/>), elsewhere torch ops.
/// </summary>
public sealed class FlatAdam : IFlatOptimizer
{
    private readonly double learningRate, beta1, beta2, epsilon;
    /// <summary>Scratch for the denominator: a new 0.5 MB tensor per step costs more than the step's ops.</summary>
    private readonly Tensor denominator;

    public FlatAdam(FlatParameters parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        if (!(learningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"learning rate must be >= 0, got {learningRate}");
        if (!(beta1 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), $"beta1 must be in [0, 1), got {beta1}");
        if (!(beta2 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), $"beta2 must be in [0, 1), got {beta2}");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), $"epsilon must be >= 0, got {epsilon}");
        Parameters = parameters;
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        ExpAvg = zeros_like(parameters.Values);
        ExpAvgSq = zeros_like(parameters.Values);
        denominator = empty_like(parameters.Values);
        State = [ExpAvg, ExpAvgSq];
    }

    public FlatParameters Parameters { get; }
    public long Steps { get; private set; }
    public IReadOnlyList<Tensor> State { get; }

    /// <summary>The running mean of the gradients, m.</summary>
    public Tensor ExpAvg { get; }

    /// <summary>The running mean of the squared gradients, v.</summary>
    public Tensor ExpAvgSq { get; }

    /// <summary>Takes every step with torch ops even where the fused loop applies (to check one against the other).</summary>
    internal bool TorchOpsOnly { get; set; }

    public void Step(Tensor? keep = null)
    {
        Steps++;
        var gradient = Parameters.Gradients;
        var correction2 = Math.Sqrt(1 - Math.Pow(beta2, Steps));
        var stepSize = learningRate / (1 - Math.Pow(beta1, Steps));
        if (!TorchOpsOnly && FlatKernel.Applies(Parameters.Values, gradient, ExpAvg, ExpAvgSq, keep))
        {
            FlatKernel.Run(Parameters.Count, (start, length) => Fused(start, length, keep, (float)correction2, (float)-stepSize));
            return;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (keep is not null) gradient.mul_(keep);
        ExpAvg.mul_(beta1).add_(gradient, alpha: 1 - beta1);
        ExpAvgSq.mul_(beta2).addcmul_(gradient, gradient, value: 1 - beta2);
        denominator.copy_(ExpAvgSq).sqrt_().div_(correction2).add_(epsilon);
        Parameters.Values.addcdiv_(ExpAvg, denominator, value: -stepSize);
    }

    /// <summary>
    /// The step over entries [start, start + length), each read and written once, rounding as torch's ops
    /// above do (add with alpha is a fused multiply-add there; addcmul and addcdiv are not).
    /// </summary>
    private void Fused(int start, int length, Tensor? keep, float correction2, float rate)
    {
        var values = FlatKernel.Floats(Parameters.Values).Slice(start, length);
        var gradients = FlatKernel.Floats(Parameters.Gradients).Slice(start, length);
        var means = FlatKernel.Floats(ExpAvg).Slice(start, length);
        var squares = FlatKernel.Floats(ExpAvgSq).Slice(start, length);
        var masked = keep is not null;
        var kept = masked ? FlatKernel.Floats(keep!).Slice(start, length) : default;
        float b1 = (float)beta1, c1 = (float)(1 - beta1), b2 = (float)beta2, c2 = (float)(1 - beta2), eps = (float)epsilon;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vb1 = new(b1), vc1 = new(c1), vb2 = new(b2), vc2 = new(c2), ve = new(eps), vr = new(rate), vk = new(correction2);
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var at = (nuint)i;
                var g = Vector.LoadUnsafe(ref gradients[0], at);
                if (masked) g *= Vector.LoadUnsafe(ref kept[0], at);
                var m = Vector.FusedMultiplyAdd(g, vc1, Vector.LoadUnsafe(ref means[0], at) * vb1);
                m.StoreUnsafe(ref means[0], at);
                var v = Vector.LoadUnsafe(ref squares[0], at) * vb2 + vc2 * g * g;
                v.StoreUnsafe(ref squares[0], at);
                (Vector.LoadUnsafe(ref values[0], at) + vr * m / (Vector.SquareRoot(v) / vk + ve)).StoreUnsafe(ref values[0], at);
            }
        }
        for (; i < length; i++)
        {
            var g = masked ? gradients[i] * kept[i] : gradients[i];
            var m = means[i] = MathF.FusedMultiplyAdd(g, c1, means[i] * b1);
            var v = squares[i] = squares[i] * b2 + c2 * g * g;
            values[i] += rate * m / (MathF.Sqrt(v) / correction2 + eps);
        }
    }

    public void ZeroGrad() => Parameters.ZeroGrad();

    public void Dispose()
    {
        ExpAvg.Dispose();
        ExpAvgSq.Dispose();
        denominator.Dispose();
    }
}
