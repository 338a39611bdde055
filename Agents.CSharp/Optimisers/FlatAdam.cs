using System.Numerics;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Optimisers;

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
    /// <summary>The torch-op step's constants (<see cref="OwnedScalars"/>); the per-step corrections are held for the step.</summary>
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one, beta1Scalar, complement1Scalar, beta2Scalar, complement2Scalar, epsilonScalar;

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
        (one, epsilonScalar) = (scalars.Of(1), scalars.Of(epsilon));
        (beta1Scalar, complement1Scalar) = (scalars.Of(beta1), scalars.Of(1 - beta1));
        (beta2Scalar, complement2Scalar) = (scalars.Of(beta2), scalars.Of(1 - beta2));
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
        if (keep is not null) Parameters.CheckAligned(keep, nameof(keep));
        Steps++;
        var gradient = Parameters.Gradients;
        var correction2 = Math.Sqrt(1 - Math.Pow(beta2, Steps));
        var stepSize = learningRate / (1 - Math.Pow(beta1, Steps));
        if (!TorchOpsOnly && FlatKernel.Applies(keep, Parameters.Values, gradient, ExpAvg, ExpAvgSq))
        {
            var count = (int)Parameters.Count;
            var entries = new Entries(this, (float)correction2, (float)-stepSize);
            FlatKernel.Sweep(ref entries, count, FlatKernel.Bytes(keep));
            return;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var corrections = new OwnedScalars();
        if (keep is not null) gradient.mul_(keep);
        ExpAvg.mul_(beta1Scalar).add_(gradient, alpha: complement1Scalar);
        ExpAvgSq.mul_(beta2Scalar).addcmul_(gradient, gradient, value: complement2Scalar);
        denominator.copy_(ExpAvgSq).sqrt_().div_(corrections.Of(correction2)).add_(epsilonScalar, one);
        Parameters.Values.addcdiv_(ExpAvg, denominator, value: corrections.Of(-stepSize));
    }

    /// <summary>
    /// The step's arithmetic on the buffers' entries, rounding as torch's ops above do (add with alpha is a
    /// fused multiply-add there; addcmul and addcdiv are not).
    /// </summary>
    private ref struct Entries : FlatKernel.IEntries
    {
        private readonly Span<float> values, gradients, means, squares;
        private readonly float beta1, complement1, beta2, complement2, epsilon, correction2, rate;

        public Entries(FlatAdam optimizer, float correction2, float rate)
        {
            values = FlatKernel.Floats(optimizer.Parameters.Values);
            gradients = FlatKernel.Floats(optimizer.Parameters.Gradients);
            means = FlatKernel.Floats(optimizer.ExpAvg);
            squares = FlatKernel.Floats(optimizer.ExpAvgSq);
            beta1 = (float)optimizer.beta1;
            complement1 = (float)(1 - optimizer.beta1);
            beta2 = (float)optimizer.beta2;
            complement2 = (float)(1 - optimizer.beta2);
            epsilon = (float)optimizer.epsilon;
            this.correction2 = correction2;
            this.rate = rate;
        }

        public readonly void Vector(nuint at, Vector<float> keep)
        {
            var g = System.Numerics.Vector.LoadUnsafe(ref gradients[0], at) * keep;
            var m = System.Numerics.Vector.FusedMultiplyAdd(g, new Vector<float>(complement1), System.Numerics.Vector.LoadUnsafe(ref means[0], at) * beta1);
            m.StoreUnsafe(ref means[0], at);
            var v = System.Numerics.Vector.LoadUnsafe(ref squares[0], at) * beta2 + new Vector<float>(complement2) * g * g;
            v.StoreUnsafe(ref squares[0], at);
            var step = new Vector<float>(rate) * m / (System.Numerics.Vector.SquareRoot(v) / correction2 + new Vector<float>(epsilon));
            (System.Numerics.Vector.LoadUnsafe(ref values[0], at) + step).StoreUnsafe(ref values[0], at);
        }

        public readonly void Scalar(int at, float keep)
        {
            var g = gradients[at] * keep;
            var m = means[at] = MathF.FusedMultiplyAdd(g, complement1, means[at] * beta1);
            var v = squares[at] = squares[at] * beta2 + complement2 * g * g;
            values[at] += rate * m / (MathF.Sqrt(v) / correction2 + epsilon);
        }
    }

    public void ZeroGrad() => Parameters.ZeroGrad();

    public void Save(StateWriter writer) => FlatOptimizerState.Save(this, writer);

    public void Load(StateReader reader) => Steps = FlatOptimizerState.Load(this, reader);

    public void Dispose()
    {
        ExpAvg.Dispose();
        ExpAvgSq.Dispose();
        denominator.Dispose();
        scalars.Dispose();
    }
}
