using static TorchSharp.torch;

namespace Prunerl.Agents.Agents;

/// <summary>
/// Conservative Q-learning's regulariser for discrete actions (CQL(H), Kumar, Zhou, Tucker, Levine 2020,
/// eq. 4): alpha * E_s[ log sum_a exp Q(s, a) - Q(s, a_data) ], added to the TD loss. It pushes down the
/// Q-values of every action (a soft maximum) and up those of the actions in the data, so that a policy
/// greedy in Q stays near the data's actions. For C51 (CQL+C51) Q is the expectation of the predicted
/// distribution, sum_j p_j(s, a) z_j, as the paper's QR-DQN-based Atari agent takes the quantiles' mean.
/// </summary>
public static class ConservativeQ
{
    /// <summary>
    /// The mean over the batch of logsumexp_a Q(s, a) - Q(s, a_data), with the graph to Q (unweighted
    /// by replay priorities, as the reference implementation).
    /// </summary>
    /// <param name="q">[B, A] the online network's Q-values of the batch's observations.</param>
    /// <param name="actions">[B, 1] (int64) the actions in the data.</param>
    public static Tensor Penalty(Tensor q, Tensor actions) =>
        (q.logsumexp(1) - q.gather(1, actions.view(-1, 1)).squeeze(1)).mean();
}
