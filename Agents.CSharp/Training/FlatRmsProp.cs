using Prunerl.Agents.Checkpoints;
using static TorchSharp.torch;

namespace Prunerl.Agents.Training;

/// <summary>
/// RMSprop (Hinton, Coursera lecture 6e) on a flat buffer, in PyTorch's formulation (torch.optim.RMSprop,
/// no momentum, no weight decay): with gradient g, s = α·s + (1-α)·g²; centered, also a = α·a + (1-α)·g
/// and the denominator is √(s - a²) + ε, otherwise √s + ε; θ -= lr · g / denominator. Defaults are
/// PyTorch's; the MinAtar reference DQN uses lr 2.5e-4, α 0.95, centered, ε 0.01.
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

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Steps++;
        var gradient = Parameters.Gradients;
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

    public void ZeroGrad() => Parameters.ZeroGrad();

    public void Save(StateWriter writer) => FlatOptimizerState.Save(this, writer);

    public void Load(StateReader reader) => Steps = FlatOptimizerState.Load(this, reader);

    public void Dispose()
    {
        SquareAvg.Dispose();
        GradAvg?.Dispose();
        denominator.Dispose();
    }
}
