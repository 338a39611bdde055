using Prunerl.Agents.Checkpoints;
using static TorchSharp.torch;

namespace Prunerl.Agents.Training;

/// <summary>
/// Adam (Kingma &amp; Ba 2015) on a flat buffer, in PyTorch's formulation (torch.optim.Adam, no weight
/// decay, no AMSGrad): at step t with gradient g,
/// m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g², θ -= lr/(1-β1^t) · m / (√v/√(1-β2^t) + ε).
/// Defaults are PyTorch's; Dopamine's DQN uses lr 6.25e-5, ε 1.5e-4.
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

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Steps++;
        var gradient = Parameters.Gradients;
        ExpAvg.mul_(beta1).add_(gradient, alpha: 1 - beta1);
        ExpAvgSq.mul_(beta2).addcmul_(gradient, gradient, value: 1 - beta2);
        denominator.copy_(ExpAvgSq).sqrt_().div_(Math.Sqrt(1 - Math.Pow(beta2, Steps))).add_(epsilon);
        Parameters.Values.addcdiv_(ExpAvg, denominator, value: -learningRate / (1 - Math.Pow(beta1, Steps)));
    }

    public void ZeroGrad() => Parameters.ZeroGrad();

    public void Save(StateWriter writer) => FlatOptimizerState.Save(this, writer);

    public void Load(StateReader reader) => Steps = FlatOptimizerState.Load(this, reader);

    public void Dispose()
    {
        ExpAvg.Dispose();
        ExpAvgSq.Dispose();
        denominator.Dispose();
    }
}
