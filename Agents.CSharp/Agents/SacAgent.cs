using Prunerl.Agents.Checkpoints;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Pruning;
using Prunerl.Agents.Replay;
using Prunerl.Agents.Runtime;
using Prunerl.Agents.Training;
using Prunerl.Core;
using Prunerl.Agents.Optimisers;
using Prunerl.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Agents;

/// <summary>One SAC update's losses and the temperature it used.</summary>
/// <param name="Critic">0.5 (MSE(Q1, y) + MSE(Q2, y)).</param>
/// <param name="Actor">mean(alpha log pi(a|s) - min(Q1, Q2)(s, a)), a ~ pi.</param>
/// <param name="Temperature">-mean(log alpha (log pi(a|s) + target entropy)).</param>
/// <param name="Alpha">The temperature the critic and actor losses used.</param>
/// <param name="Entropy">-mean(log pi(a|s)) on the batch.</param>
public readonly record struct SacLosses(float Critic, float Actor, float Temperature, float Alpha, float Entropy);

/// <summary>
/// Soft actor-critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"): a
/// tanh-squashed Gaussian actor, twin Q critics with Polyak-averaged targets (clipped double Q), and an
/// entropy temperature alpha tuned so the policy's entropy tracks a target (-|A| by default). One update,
/// in Stable-Baselines3's order: the temperature on the actor's fresh actions, then the critics toward
/// y = R + discount (min(Q1', Q2')(s', a') - alpha log pi(a'|s')), a' ~ pi(s'), then the actor, then
/// target smoothing. Actions live in [-1, 1]^|A| (the policy's space; replay stores them so) and are
/// scaled affinely to the environment's box for stepping; the log-densities are those of the [-1, 1]
/// actions, as Stable-Baselines3's. Parameters live in one flat buffer per network (actor, both critics
/// together, their targets, log alpha), each with its flat Adam. When pruning, the actor and the critics
/// each have a pruner on the same schedule over gradient updates (biases dense unless the scope says
/// otherwise); pruned weights' gradients and optimizer state stay zero, and the target critics are masked
/// after each smoothing step, so they hold the critics' masks exactly. The actor's sampling noise comes
/// from the agent's own seeded stream, which its state includes. The networks live on the agent's device;
/// batches, observations and noise are made in managed memory and copied there once per tensor, and an
/// update's losses come back in one copy.
/// </summary>
public sealed class SacAgent : IDisposable, ICheckpointable
{
    private readonly SacConfig config;
    private readonly int observationSize;
    private readonly float[] actionLow, actionHigh, actionCenter, actionHalfRange;
    private readonly SquashedGaussianActor actor;
    private readonly TwinCritic critic;
    private readonly TwinCritic targetCritic;
    private readonly Temperature temperature;
    private readonly FlatParameters actorParameters, criticParameters, targetParameters, temperatureParameters;
    /// <summary>The actor's and the critics' optimizers, each pruning its network when the run prunes.</summary>
    private readonly PrunedOptimizer actorOptimizer, criticOptimizer;
    private readonly FlatAdam temperatureOptimizer;
    /// <summary>Where the networks live; null for the CPU.</summary>
    private readonly Device? device;
    /// <summary>An update's losses, temperature and entropy, read back in one copy.</summary>
    private readonly float[] readout = new float[5];
    private EnvRandom noise;
    /// <summary>The constants of the update's ops (<see cref="OwnedScalars"/>): the alpha of additions, the
    /// critic loss's 1/2, the target entropy, and the smoothing's 1 - tau and tau.</summary>
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one, half, targetEntropy, targetKeep, tau, rewardScale;
    /// <summary>The L2 term on the actor's and the critics' kernels; null without it.</summary>
    private readonly KernelL2? actorL2, criticL2;

    /// <summary>An agent whose networks are initialised on the CPU from the seed, then moved to <paramref name="device"/> (the CPU when null).</summary>
    public SacAgent(SacConfig config, NetworkSpec network, int observationSize, BoxSpace actionSpace, PruningSetup? pruning, long seed, Device? device = null)
    {
        var checkedConfig = SacConfigModule.validate(config);
        this.config = checkedConfig.IsOk ? checkedConfig.ResultValue : throw new ArgumentException(checkedConfig.ErrorValue, nameof(config));
        if (observationSize < 1) throw new ArgumentOutOfRangeException(nameof(observationSize), $"the observation size must be >= 1, got {observationSize}");
        if (actionSpace.Low.Zip(actionSpace.High).Any(b => !(float.IsFinite(b.First) && float.IsFinite(b.Second) && b.Second > b.First)))
            throw new ArgumentException($"SAC needs a bounded action box (finite low < high), got {actionSpace}", nameof(actionSpace));
        this.observationSize = observationSize;
        ActionSize = actionSpace.Size;
        actionCenter = actionSpace.Low.Zip(actionSpace.High, (l, h) => (l + h) / 2).ToArray();
        actionHalfRange = actionSpace.Low.Zip(actionSpace.High, (l, h) => (h - l) / 2).ToArray();
        actionLow = actionSpace.Low;
        actionHigh = actionSpace.High;
        TargetEntropy = config.TargetEntropyPerDimension * ActionSize;
        actor = new SquashedGaussianActor(network, observationSize, ActionSize, (long)SeedStreams.Seed(seed, SeedStreams.SacActor));
        critic = new TwinCritic(network, observationSize, ActionSize, (long)SeedStreams.Seed(seed, SeedStreams.SacCritics));
        targetCritic = new TwinCritic(network, observationSize, ActionSize, (long)SeedStreams.Seed(seed, SeedStreams.SacCritics));
        temperature = new Temperature(config.InitialAlpha);
        this.device = device;
        if (!Devices.IsCpu(device))
        {
            actor.to(device!);
            critic.to(device!);
            targetCritic.to(device!);
            temperature.to(device!);
        }
        actorParameters = new FlatParameters(actor);
        criticParameters = new FlatParameters(critic);
        targetParameters = new FlatParameters(targetCritic);
        temperatureParameters = new FlatParameters(temperature);
        actorOptimizer = PrunedOptimizer.Create(actor, new FlatAdam(actorParameters, config.ActorLearningRate), pruning?.ForNetwork(0), "actor");
        criticOptimizer = PrunedOptimizer.Create(critic, new FlatAdam(criticParameters, config.CriticLearningRate), pruning?.ForNetwork(1), "critics");
        temperatureOptimizer = new FlatAdam(temperatureParameters, config.AlphaLearningRate);
        noise = SeedStreams.Random(seed, SeedStreams.SacNoise);
        (one, half, targetEntropy) = (scalars.Of(1), scalars.Of(0.5), scalars.Of(TargetEntropy));
        (targetKeep, tau) = (scalars.Of(1 - this.config.Tau), scalars.Of(this.config.Tau));
        rewardScale = scalars.Of(this.config.RewardScale);
        if (this.config.KernelL2 > 0)
        {
            actorL2 = new KernelL2(actorParameters, this.config.KernelL2);
            criticL2 = new KernelL2(criticParameters, this.config.KernelL2);
        }
        using (no_grad()) targetParameters.Values.copy_(criticParameters.Values);
    }

    /// <summary>Values per action.</summary>
    public int ActionSize { get; }

    /// <summary>The temperature's target entropy: TargetEntropyPerDimension x |A|.</summary>
    public double TargetEntropy { get; }

    /// <summary>Gradient updates taken so far: the pruning schedule's clock.</summary>
    public long Updates { get; private set; }

    /// <summary>The current temperature alpha = exp(log alpha).</summary>
    public double Alpha
    {
        get
        {
            using var scope = NewDisposeScope();
            return Math.Exp(temperature.LogAlpha.item<float>());
        }
    }

    public SquashedGaussianActor Actor => actor;
    public TwinCritic Critic => critic;
    public TwinCritic TargetCritic => targetCritic;
    public FlatParameters ActorParameters => actorParameters;
    public FlatParameters CriticParameters => criticParameters;
    public FlatParameters TargetParameters => targetParameters;
    /// <summary>The actor's optimizer with its mask policy.</summary>
    public PrunedOptimizer ActorOptimizer => actorOptimizer;
    /// <summary>The critics' optimizer with its mask policy.</summary>
    public PrunedOptimizer CriticOptimizer => criticOptimizer;
    /// <summary>The actor's gradual magnitude pruner, when pruning.</summary>
    public MagnitudePruner? ActorPruner => actorOptimizer.Policy as MagnitudePruner;
    /// <summary>The critics' gradual magnitude pruner, when pruning.</summary>
    public MagnitudePruner? CriticPruner => criticOptimizer.Policy as MagnitudePruner;

    /// <summary>
    /// Actions in the policy's space [-1, 1]^|A| for a batch of observations (copy after copy): sampled
    /// tanh(mean + std * noise), or tanh(mean) when <paramref name="deterministic"/> (evaluation).
    /// </summary>
    public void Act(ReadOnlySpan<float> observations, bool deterministic, Span<float> actions)
    {
        var count = observations.Length / observationSize;
        if (count * observationSize != observations.Length || actions.Length != count * ActionSize)
            throw new ArgumentException($"expected whole observations of {observationSize} values and {ActionSize} action values for each, got {observations.Length} and {actions.Length}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(observations.ToArray(), [count, observationSize]).ToDevice(device);
        var chosen = deterministic ? actor.forward(input) : actor.Sample(input, Noise(count)).Actions;
        Devices.ReadFloats(actions, chosen.contiguous());
    }

    /// <summary>Policy-space actions [-1, 1] mapped affinely onto the environment's box (clamped against rounding).</summary>
    public void ToEnvironment(ReadOnlySpan<float> policy, Span<float> environment)
    {
        for (var i = 0; i < policy.Length; i++)
        {
            var j = i % ActionSize;
            environment[i] = Math.Clamp(actionCenter[j] + actionHalfRange[j] * policy[i], actionLow[j], actionHigh[j]);
        }
    }

    /// <summary>One gradient update of the temperature, the critics and the actor on a replayed batch (actions in the policy's space), then target smoothing.</summary>
    public SacLosses Update(ReplayBatch batch)
    {
        if (batch.ActionWidth != ActionSize) throw new ArgumentException($"the batch holds actions of width {batch.ActionWidth}, the agent's are {ActionSize}", nameof(batch));
        actorOptimizer.UpdateMasks();
        criticOptimizer.UpdateMasks();
        using var scope = NewDisposeScope();
        var b = batch.BatchSize;
        var observations = tensor(batch.Observations, [b, observationSize]).ToDevice(device);
        var next = tensor(batch.NextObservations, [b, observationSize]).ToDevice(device);
        var actions = tensor(batch.ActionVectors, [b, ActionSize]).ToDevice(device);
        var returns = tensor(batch.Returns).ToDevice(device);
        var discounts = tensor(batch.Discounts).ToDevice(device);

        var (policyActions, logProbabilities) = actor.Sample(observations, Noise(b));
        var temperatureLoss = -(temperature.LogAlpha * logProbabilities.detach().add(targetEntropy, one)).mean();
        var alpha = temperature.LogAlpha.detach().exp();
        temperatureOptimizer.ZeroGrad();
        temperatureLoss.backward();
        temperatureOptimizer.Step();

        Tensor targets;
        using (no_grad())
        {
            var (nextActions, nextLogProbabilities) = actor.Sample(next, Noise(b));
            var (target1, target2) = targetCritic.forward(next, nextActions);
            targets = returns.mul(rewardScale).add(discounts * (minimum(target1, target2) - alpha * nextLogProbabilities), one);
        }
        var (q1, q2) = critic.forward(observations, actions);
        var criticLoss = nn.functional.mse_loss(q1, targets).add(nn.functional.mse_loss(q2, targets), one).mul(half);
        criticOptimizer.ZeroGrad();
        criticLoss.backward();
        criticL2?.AddGradient();
        criticOptimizer.Step();

        // The critics' fresh values; their gradients from this backward are discarded by the next critic update's ZeroGrad.
        var (p1, p2) = critic.forward(observations, policyActions);
        var actorLoss = (alpha * logProbabilities - minimum(p1, p2)).mean();
        actorOptimizer.ZeroGrad();
        actorLoss.backward();
        actorL2?.AddGradient();
        actorOptimizer.Step();

        SmoothTargets();
        Updates++;
        Devices.ReadFloats(readout, criticLoss, actorLoss, temperatureLoss, alpha, -logProbabilities.mean());
        return new SacLosses(readout[0], readout[1], readout[2], readout[3], readout[4]);
    }

    /// <summary>target = tau * critic + (1 - tau) * target (Polyak averaging), then the critics' masks.</summary>
    private void SmoothTargets()
    {
        using var _ = no_grad();
        targetParameters.Values.mul_(targetKeep).add_(criticParameters.Values, alpha: tau);
        criticOptimizer.Policy?.MaskAligned(targetParameters.Values);
    }

    /// <summary>Standard normal noise [count, |A|] from the agent's own stream.</summary>
    private Tensor Noise(int count)
    {
        var values = new float[count * ActionSize];
        for (var i = 0; i < values.Length; i++) values[i] = (float)noise.StandardNormal();
        return tensor(values, [count, ActionSize]).ToDevice(device);
    }

    /// <summary>Every parameter's size and non-zeros, the actor's then the critics' (prefixed <c>actor.</c>, <c>critic.</c>).</summary>
    public IReadOnlyList<ParameterSparsity> Measure() =>
        ParameterSparsity.Of(actor, actorOptimizer.Policy).Select(p => p with { Name = $"actor.{p.Name}" })
            .Concat(ParameterSparsity.Of(critic, criticOptimizer.Policy).Select(p => p with { Name = $"critic.{p.Name}" }))
            .ToList();

    /// <summary>
    /// Writes the agent's state: the update count, every network's values (actor, critics, targets, log
    /// alpha), the three optimizers, the masks and the noise stream.
    /// </summary>
    public void Save(StateWriter writer)
    {
        writer.Write(Updates);
        writer.Write(actorParameters.Values);
        writer.Write(criticParameters.Values);
        writer.Write(targetParameters.Values);
        writer.Write(temperatureParameters.Values);
        actorOptimizer.Save(writer);
        criticOptimizer.Save(writer);
        temperatureOptimizer.Save(writer);
        PrunedOptimizer.SaveMasks(writer, actorOptimizer, criticOptimizer);
        writer.Write(noise);
    }

    public void Load(StateReader reader)
    {
        Updates = reader.ReadInt64();
        reader.ReadInto(actorParameters.Values);
        reader.ReadInto(criticParameters.Values);
        reader.ReadInto(targetParameters.Values);
        reader.ReadInto(temperatureParameters.Values);
        actorOptimizer.Load(reader);
        criticOptimizer.Load(reader);
        temperatureOptimizer.Load(reader);
        PrunedOptimizer.LoadMasks(reader, actorOptimizer, criticOptimizer);
        noise = reader.ReadRandom();
    }

    public void Dispose()
    {
        actorL2?.Dispose();
        criticL2?.Dispose();
        actorOptimizer.Dispose();
        criticOptimizer.Dispose();
        temperatureOptimizer.Dispose();
        actorParameters.Dispose();
        criticParameters.Dispose();
        targetParameters.Dispose();
        temperatureParameters.Dispose();
        actor.Dispose();
        critic.Dispose();
        targetCritic.Dispose();
        temperature.Dispose();
        scalars.Dispose();
    }
}
