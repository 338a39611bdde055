namespace Prunerl.Agents.Agents;

/// <summary>
/// The regularisers the paper compares pruning with (Obando-Ceron et al. 2024, Appendix G and Figure 12), both
/// usable with dense and pruned networks. <paramref name="DecoupledDecay"/> lambda: before every optimizer step
/// every parameter is multiplied by 1 - lr * lambda (decoupled weight decay, AdamW: Loshchilov and Hutter 2019;
/// torch.optim.AdamW's order). <paramref name="L2"/> lambda: the kernels' (weight matrices' and convolution
/// kernels') L2 term lambda * sum w^2 in the loss (Keras's L2 regulariser, as rigl/rl's SAC), taken as its
/// gradient 2 lambda w added to theirs after the backward pass (the same update; the logged loss is the TD loss).
/// </summary>
public sealed record Regularization(double DecoupledDecay = 0, double L2 = 0);
