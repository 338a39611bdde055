using Prunerl.Agents.Agents;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Runtime;
using Prunerl.Agents.Networks;
using Prunerl.Core;
using Prunerl.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Inference;

/// <summary>
/// A trained network that acts, without the rest of its agent (no optimizer, replay or target): what a finished
/// run keeps (<see cref="NetworkFile"/>) and what <c>prunerl evaluate</c> plays. Built with its family's shape
/// from the run's configuration, on the CPU, then loaded with the run's weights.
/// </summary>
public abstract class TrainedPolicy : IDisposable
{
    /// <summary>The network whose state_dict is the policy's weights.</summary>
    public abstract nn.Module Network { get; }

    /// <summary>One step of an episode: the policy's action in <paramref name="environment"/>, drawing any
    /// exploration from <paramref name="random"/>.</summary>
    public abstract StepResult Step(Envs.Environment environment, ref EnvRandom random);

    /// <summary>Reads the weights at <paramref name="path"/> into the network (<see cref="NetworkFile.Load"/>).</summary>
    public void Load(string path) => NetworkFile.Load(Network, path);

    /// <summary>Frees the network's tensors.</summary>
    public void Dispose()
    {
        Network.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The DQN family's policy (DQN, Rainbow, DER, DrQ, CQL, CQL+C51): epsilon-greedy on the value network's
/// Q-values, exactly as <see cref="DqnAgent.Act"/> acts in evaluation (a uniform action with probability
/// epsilon, else the greedy one; noisy layers on their means).
/// </summary>
public sealed class QPolicy : TrainedPolicy
{
    private readonly QNetwork network;
    private readonly int[] shape;

    /// <param name="config">The agent's configuration: its head (atoms, dueling, noisy layers).</param>
    /// <param name="torso">The run's network (torso, width, scope).</param>
    /// <param name="observationShape">One observation's shape.</param>
    /// <param name="actions">Discrete actions.</param>
    /// <param name="epsilon">The probability of a uniformly random action (the run's epsilon_eval, or another).</param>
    public QPolicy(AgentConfig config, NetworkSpec torso, IReadOnlyList<int> observationShape, int actions, double epsilon)
    {
        if (!(epsilon >= 0 && epsilon <= 1)) throw new ArgumentOutOfRangeException(nameof(epsilon), $"epsilon must be in [0, 1], got {epsilon}");
        network = new QNetwork(DqnAgent.NetworkOf(config, torso), observationShape, actions, seed: 0);
        // Noisy layers act on their means (Dopamine's eval_mode); nothing else depends on the mode.
        network.eval();
        shape = [.. observationShape];
        Epsilon = epsilon;
    }

    /// <summary>The value network.</summary>
    public override nn.Module Network => network;

    /// <summary>The probability of a uniformly random action.</summary>
    public double Epsilon { get; }

    /// <summary>The Q-values of a batch of observations (copy after copy), [count, actions] row by row.</summary>
    public float[] QValues(ReadOnlySpan<float> observations)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var count = observations.Length / shape.Aggregate(1, (n, d) => n * d);
        return network.forward(tensor(observations.ToArray(), [count, .. shape.Select(d => (long)d)])).data<float>().ToArray();
    }

    /// <summary>The epsilon-greedy action on the current observation.</summary>
    public override StepResult Step(Envs.Environment environment, ref EnvRandom random)
    {
        var q = QValues(environment.Observation);
        var greedy = Array.IndexOf(q, q.Max());
        return environment.Step(random.Chance(Epsilon) ? random.NextInt(network.Actions) : greedy);
    }
}

/// <summary>SAC's policy in evaluation: the actor's deterministic action tanh(mean), scaled affinely to the
/// environment's action box (as <see cref="SacAgent.ToEnvironment"/>); it draws nothing.</summary>
public sealed class ActorPolicy : TrainedPolicy
{
    private readonly SquashedGaussianActor actor;
    private readonly BoxSpace box;
    private readonly float[] action;

    /// <param name="network">The run's MLP spec (hidden units and width).</param>
    /// <param name="observationSize">Values per observation.</param>
    /// <param name="actionSpace">The environment's action box.</param>
    public ActorPolicy(NetworkSpec network, int observationSize, BoxSpace actionSpace)
    {
        actor = new SquashedGaussianActor(network, observationSize, actionSpace.Size, seed: 0);
        box = actionSpace;
        action = new float[actionSpace.Size];
    }

    /// <summary>The actor.</summary>
    public override nn.Module Network => actor;

    /// <summary>The deterministic action on the current observation; <paramref name="random"/> is not drawn from.</summary>
    public override StepResult Step(Envs.Environment environment, ref EnvRandom random)
    {
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var policy = actor.forward(tensor(environment.Observation.ToArray(), [1, environment.Observation.Length])).data<float>();
            for (var i = 0; i < action.Length; i++)
                action[i] = Math.Clamp((box.Low[i] + box.High[i]) / 2 + (box.High[i] - box.Low[i]) / 2 * policy[i], box.Low[i], box.High[i]);
        }
        return environment.Step(action);
    }
}
