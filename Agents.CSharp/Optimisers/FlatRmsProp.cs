using System.Numerics;
using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Optimisers;

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
    /// <summary>The torch-op step's constants (<see cref="OwnedScalars"/>).</summary>
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one, minusOne, alphaScalar, complementScalar, epsilonScalar, rateScalar;

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
        (one, minusOne) = (scalars.Of(1), scalars.Of(-1));
        (alphaScalar, complementScalar) = (scalars.Of(alpha), scalars.Of(1 - alpha));
        (epsilonScalar, rateScalar) = (scalars.Of(epsilon), scalars.Of(-learningRate));
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
        if (keep is not null) Parameters.CheckAligned(keep, nameof(keep));
        Steps++;
        var gradient = Parameters.Gradients;
        if (!TorchOpsOnly && FlatKernel.Applies(keep, Parameters.Values, gradient, SquareAvg, GradAvg))
        {
            var count = (int)Parameters.Count;
            var entries = new Entries(this);
            FlatKernel.Sweep(ref entries, count, FlatKernel.Bytes(keep));
            return;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (keep is not null) gradient.mul_(keep);
        SquareAvg.mul_(alphaScalar).addcmul_(gradient, gradient, value: complementScalar);
        denominator.copy_(SquareAvg);
        if (GradAvg is not null)
        {
            GradAvg.mul_(alphaScalar).add_(gradient, alpha: complementScalar);
            denominator.addcmul_(GradAvg, GradAvg, value: minusOne);
        }
        denominator.sqrt_().add_(epsilonScalar, one);
        Parameters.Values.addcdiv_(gradient, denominator, value: rateScalar);
    }

    /// <summary>
    /// The step's arithmetic on the buffers' entries, rounding as torch's ops above do (add with alpha is a
    /// fused multiply-add there; addcmul and addcdiv are not).
    /// </summary>
    private ref struct Entries : FlatKernel.IEntries
    {
        private readonly Span<float> values, gradients, squares, means;
        private readonly bool centered;
        private readonly float alpha, complement, epsilon, rate;

        public Entries(FlatRmsProp optimizer)
        {
            values = FlatKernel.Floats(optimizer.Parameters.Values);
            gradients = FlatKernel.Floats(optimizer.Parameters.Gradients);
            squares = FlatKernel.Floats(optimizer.SquareAvg);
            centered = optimizer.GradAvg is not null;
            means = centered ? FlatKernel.Floats(optimizer.GradAvg!) : default;
            alpha = (float)optimizer.alpha;
            complement = (float)(1 - optimizer.alpha);
            epsilon = (float)optimizer.epsilon;
            rate = (float)-optimizer.learningRate;
        }

        public readonly void Vector(nuint at, Vector<float> keep)
        {
            var g = System.Numerics.Vector.LoadUnsafe(ref gradients[0], at) * keep;
            var s = System.Numerics.Vector.LoadUnsafe(ref squares[0], at) * alpha + new Vector<float>(complement) * g * g;
            s.StoreUnsafe(ref squares[0], at);
            if (centered)
            {
                var m = System.Numerics.Vector.FusedMultiplyAdd(g, new Vector<float>(complement), System.Numerics.Vector.LoadUnsafe(ref means[0], at) * alpha);
                m.StoreUnsafe(ref means[0], at);
                s -= m * m;
            }
            var step = new Vector<float>(rate) * g / (System.Numerics.Vector.SquareRoot(s) + new Vector<float>(epsilon));
            (System.Numerics.Vector.LoadUnsafe(ref values[0], at) + step).StoreUnsafe(ref values[0], at);
        }

        public readonly void Scalar(int at, float keep)
        {
            var g = gradients[at] * keep;
            var s = squares[at] = squares[at] * alpha + complement * g * g;
            if (centered)
            {
                var m = means[at] = MathF.FusedMultiplyAdd(g, complement, means[at] * alpha);
                s -= m * m;
            }
            values[at] += rate * g / (MathF.Sqrt(s) + epsilon);
        }
    }

    public void ZeroGrad() => Parameters.ZeroGrad();

    public void Save(StateWriter writer) => FlatOptimizerState.Save(this, writer);

    public void Load(StateReader reader) => Steps = FlatOptimizerState.Load(this, reader);

    public void Dispose()
    {
        SquareAvg.Dispose();
        GradAvg?.Dispose();
        denominator.Dispose();
        scalars.Dispose();
    }
}
