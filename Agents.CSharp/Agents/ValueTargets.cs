using Prunerl.Agents.Runtime;
using static TorchSharp.torch;

namespace Prunerl.Agents.Agents;

/// <summary>
/// The learning targets of value-based agents, as functions of tensors, so that each can be checked on
/// cases worked out by hand. Batches carry n-step returns R and discounts d = gamma^m (0 when the episode
/// terminated within the window), so every target reads R + d * (value of the next observation).
/// The Scalars their ops take are held for the call (<see cref="OwnedScalars"/>).
/// </summary>
public static class ValueTargets
{
    /// <summary>
    /// DQN's target R + d * Q_target(s', a*) with a* = argmax_a Q_target(s', a) (Mnih et al. 2015), or, for
    /// double Q-learning, a* = argmax_a Q_online(s', a) (van Hasselt et al. 2016). No gradient flows through it.
    /// </summary>
    /// <param name="returns">[B] n-step returns.</param>
    /// <param name="discounts">[B] gamma^m, 0 after a termination.</param>
    /// <param name="nextTarget">[B, A] the target network's Q-values of the next observations.</param>
    /// <param name="nextOnline">[B, A] the online network's, for double Q-learning; null for DQN.</param>
    public static Tensor QTargets(Tensor returns, Tensor discounts, Tensor nextTarget, Tensor? nextOnline)
    {
        using var _ = no_grad();
        using var scalars = new OwnedScalars();
        // Without double Q the chosen action's value is the maximum: one op instead of argmax and gather.
        var next = nextOnline is null ? nextTarget.max(1).values : nextTarget.gather(1, nextOnline.argmax(1, keepdim: true)).squeeze(1);
        return addcmul(returns, discounts, next, scalars.Of(1));
    }

    /// <summary>
    /// The Huber loss (delta 1) of the taken actions' Q-values against the targets, averaged over the batch
    /// with optional importance weights [B] (prioritized replay); also returns each sample's loss [B]
    /// (new priorities).
    /// </summary>
    public static (Tensor Loss, Tensor PerSample) HuberLoss(Tensor qTaken, Tensor targets, Tensor? weights)
    {
        var perSample = nn.functional.smooth_l1_loss(qTaken, targets, reduction: nn.Reduction.None, beta: 1.0);
        var loss = weights is null ? perSample.mean() : (weights * perSample).mean();
        return (loss, perSample);
    }

    /// <summary>
    /// The squared error of the taken actions' Q-values against the targets, (Q - target)^2 without a half,
    /// averaged over the batch with optional importance weights [B], and each sample's loss [B]: Dopamine's
    /// mse_loss (dopamine/jax/losses.py: jnp.mean(jnp.power(targets - predictions, 2))), its JAX DQN's default.
    /// </summary>
    public static (Tensor Loss, Tensor PerSample) SquaredLoss(Tensor qTaken, Tensor targets, Tensor? weights)
    {
        var perSample = nn.functional.mse_loss(qTaken, targets, reduction: nn.Reduction.None);
        var loss = weights is null ? perSample.mean() : (weights * perSample).mean();
        return (loss, perSample);
    }

    /// <summary>
    /// C51's categorical projection (Bellemare, Dabney, Munos 2017, algorithm 1): each atom z_j of the next
    /// distribution moves to Tz_j = clip(R + d z_j, v_min, v_max) and its probability is split between the
    /// two neighbouring atoms in proportion to closeness. Returns the projected target distribution [B, K].
    /// </summary>
    /// <param name="support">[K] atoms, evenly spaced from v_min to v_max.</param>
    /// <param name="nextProbabilities">[B, K] the next observation's distribution for the chosen action.</param>
    /// <param name="returns">[B] n-step returns.</param>
    /// <param name="discounts">[B] gamma^m, 0 after a termination.</param>
    public static Tensor ProjectDistribution(Tensor support, Tensor nextProbabilities, Tensor returns, Tensor discounts) =>
        ProjectDistribution(support, SupportBounds(support), nextProbabilities, returns, discounts);

    /// <summary>The first and last atoms of a support [K], read once (each read from a GPU is a synchronisation).</summary>
    public static (float Min, float Max) SupportBounds(Tensor support)
    {
        using var scope = NewDisposeScope();
        return (support[0].item<float>(), support[support.shape[0] - 1].item<float>());
    }

    /// <summary>The projection above with the support's bounds given (<see cref="SupportBounds"/>).</summary>
    public static Tensor ProjectDistribution(Tensor support, (float Min, float Max) bounds, Tensor nextProbabilities, Tensor returns, Tensor discounts)
    {
        using var _ = no_grad();
        using var scalars = new OwnedScalars();
        var atoms = support.shape[0];
        var (vMin, vMax) = bounds;
        var delta = (vMax - vMin) / (atoms - 1);
        var (one, low, high) = (scalars.Of(1), scalars.Of(vMin), scalars.Of(vMax));
        var (first, last) = (scalars.Of(0), scalars.Of(atoms - 1));
        var shifted = returns.unsqueeze(1).add(discounts.unsqueeze(1) * support.unsqueeze(0), one).clamp(low, high);
        var position = shifted.sub(low).div(scalars.Of(delta));
        var lower = position.floor().clamp(first, last).to_type(ScalarType.Int64);
        var upper = position.ceil().clamp(first, last).to_type(ScalarType.Int64);
        // Where Tz lands exactly on an atom, lower = upper, the upper share is 0 and all the mass stays there.
        var upperShare = position - lower.to_type(position.dtype);
        var projected = zeros_like(nextProbabilities);
        // 1 - upperShare as TorchSharp's operator computes it: -upperShare + 1.
        projected.scatter_add_(1, lower, nextProbabilities * upperShare.negative().add(one, one));
        projected.scatter_add_(1, upper, nextProbabilities * upperShare);
        return projected;
    }

    /// <summary>
    /// Cross-entropy of the taken actions' logits [B, K] against target distributions [B, K], averaged with
    /// optional importance weights; also returns each sample's loss [B].
    /// </summary>
    public static (Tensor Loss, Tensor PerSample) DistributionLoss(Tensor takenLogits, Tensor targetDistribution, Tensor? weights)
    {
        var perSample = -(targetDistribution * nn.functional.log_softmax(takenLogits, -1)).sum(-1);
        var loss = weights is null ? perSample.mean() : (weights * perSample).mean();
        return (loss, perSample);
    }
}
