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


/// <summary>
/// A value-based agent in the DQN family as Dopamine builds it: an online network trained on replayed
/// batches and a target network copied from it periodically; Huber loss on (n-step) TD targets, or C51's
/// distributional loss; double Q-learning and prioritized replay's importance weights when configured.
/// Parameters live in one flat buffer each (cheap optimizer steps); when pruning, the pruner recomputes
/// masks at the schedule's updates (counted in gradient updates, as JaxPruner does), keeps pruned weights'
/// gradients and optimizer state at zero, and the target network copies the masked weights.
/// Noisy nets (<see cref="AgentConfig.Noisy"/>) draw fresh noise from the agent's <see cref="NoiseStream"/>
/// before every forward pass that acts or learns; DrQ's augmentation (<see cref="AgentConfig.Augment"/>)
/// shifts each update's observations and next observations independently (<see cref="RandomShift"/>).
/// Its state (both networks' parameters and buffers, the optimizer's state, the masks, the update count,
/// the noise and augmentation generators) can be saved and loaded into an agent built with the same
/// configuration, on any device.
/// The networks, flat buffers, optimizer state and masks live on the agent's device; batches and
/// observations come from managed memory, each tensor copied there once per update or action, and the
/// losses and actions come back in one copy each (see <see cref="Devices"/>).
/// </summary>
public sealed class DqnAgent : IDisposable, ICheckpointable
{
    private readonly AgentConfig config;
    private readonly long[] observationShape;
    private readonly QNetwork online;
    private readonly QNetwork target;
    private readonly FlatParameters onlineParameters;
    private readonly FlatParameters targetParameters;
    /// <summary>The online network's optimizer, pruning it when the run prunes.</summary>
    private readonly PrunedOptimizer optimizer;
    /// <summary>Where the networks live; null for the CPU.</summary>
    private readonly Device? device;
    /// <summary>Each sample's loss at the last update, then the batch's loss: read back from the device in one copy.</summary>
    private readonly float[] readout;
    /// <summary>C51's support bounds, read once (reading them from the support at each update is a synchronisation on a GPU).</summary>
    private readonly (float Min, float Max) supportBounds;
    /// <summary>CQL's alpha: the weight of <see cref="ConservativeQ.Penalty"/> in the loss; 0 for none.</summary>
    private readonly double conservativeWeight;
    /// <summary>The noise of noisy nets; null without them.</summary>
    private readonly NoiseStream? noise;
    /// <summary>DrQ's random shift of replayed observations; null without augmentation.</summary>
    private readonly RandomShift? augmentation;
    /// <summary>The constants of the loss and of forgetting optimizer state (<see cref="OwnedScalars"/>).</summary>
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one, zero, conservativeScale;
    /// <summary>Decoupled weight decay's 1 - lr * lambda; null without it.</summary>
    private readonly Scalar? decayFactor;
    /// <summary>The L2 term on the kernels; null without it.</summary>
    private readonly KernelL2? l2;

    /// <summary>An agent whose loss is the TD loss plus <paramref name="conservativeWeight"/> (CQL's alpha, for
    /// offline training) times <see cref="ConservativeQ.Penalty"/> on the online Q-values; 0 for the plain loss.
    /// Its networks are initialised on the CPU from the seed, then moved to <paramref name="device"/> (the CPU when null).</summary>
    public DqnAgent(AgentConfig config, NetworkSpec network, IReadOnlyList<int> observationShape, int actions, PruningSetup? pruning, long seed,
        double conservativeWeight = 0, Device? device = null, Regularization? regularization = null)
    {
        if (!(conservativeWeight >= 0 && double.IsFinite(conservativeWeight)))
            throw new ArgumentOutOfRangeException(nameof(conservativeWeight), $"the CQL weight alpha must be finite and >= 0, got {conservativeWeight}");
        this.conservativeWeight = conservativeWeight;
        (one, zero, conservativeScale) = (scalars.Of(1), scalars.Of(0), scalars.Of(conservativeWeight));
        var checkedConfig = AgentConfigModule.validate(config);
        this.config = checkedConfig.IsOk ? checkedConfig.ResultValue : throw new ArgumentException(checkedConfig.ErrorValue, nameof(config));
        this.observationShape = observationShape.Select(d => (long)d).ToArray();
        var spec = NetworkOf(config, network);
        this.device = device;
        online = new QNetwork(spec, observationShape, actions, seed, device);
        target = new QNetwork(spec, observationShape, actions, seed, device);
        onlineParameters = new FlatParameters(online);
        targetParameters = new FlatParameters(target);
        IFlatOptimizer flat = config.Optimizer switch
        {
            OptimizerConfig.Adam adam => new FlatAdam(onlineParameters, adam.learningRate, epsilon: adam.epsilon),
            OptimizerConfig.RmsProp rms => new FlatRmsProp(onlineParameters, rms.learningRate, rms.alpha, rms.epsilon, rms.centered),
            _ => throw new ArgumentException($"unknown optimizer {config.Optimizer}", nameof(config)),
        };
        optimizer = PrunedOptimizer.Create(online, flat, pruning?.ForNetwork(0));
        if (regularization is { } r)
        {
            if (!(r.DecoupledDecay >= 0 && double.IsFinite(r.DecoupledDecay)) || !(r.L2 >= 0 && double.IsFinite(r.L2)))
                throw new ArgumentOutOfRangeException(nameof(regularization), $"regularisation coefficients must be finite and >= 0, got {r}");
            var learningRate = config.Optimizer switch
            {
                OptimizerConfig.Adam adam => adam.learningRate,
                OptimizerConfig.RmsProp rms => rms.learningRate,
                _ => 0.0,
            };
            if (r.DecoupledDecay > 0) decayFactor = scalars.Of(1 - learningRate * r.DecoupledDecay);
            if (r.L2 > 0) l2 = new KernelL2(onlineParameters, r.L2);
        }
        readout = new float[config.BatchSize + 1];
        supportBounds = ValueTargets.SupportBounds(online.Support);
        noise = config.Noisy ? new NoiseStream(SeedStreams.Seed(seed, SeedStreams.Noise)) : null;
        augmentation = config.Augment
            ? new RandomShift(observationShape, config.ShiftPadding, config.IntensityScale, SeedStreams.Seed(seed, SeedStreams.Augmentation))
            : null;
        Actions = actions;
        SyncTarget();
    }

    /// <summary>The agent's value network: the run's torso and width with the head its configuration asks for
    /// (C51's atoms and support, dueling streams, noisy layers).</summary>
    public static NetworkSpec NetworkOf(AgentConfig config, NetworkSpec network) =>
        network with { Atoms = config.Atoms, VMin = config.VMin, VMax = config.VMax, Dueling = config.Dueling, Noisy = config.Noisy, NoisySigma0 = config.NoisySigma0 };

    public int Actions { get; }

    /// <summary>Gradient updates taken so far: the pruning schedule's clock.</summary>
    public long Updates { get; private set; }

    /// <summary>The online network (for evaluation and analysis).</summary>
    public QNetwork Online => online;

    /// <summary>The target network (for analysis and checks).</summary>
    public QNetwork Target => target;

    /// <summary>The online network's optimizer with its mask policy (its state is aligned with the flat parameters).</summary>
    public PrunedOptimizer Optimizer => optimizer;

    /// <summary>The gradual magnitude pruner, when pruning (the optimizer's mask policy).</summary>
    public MagnitudePruner? Pruner => optimizer.Policy as MagnitudePruner;

    /// <summary>Each sample's loss at the last update: the new priorities for prioritized replay.</summary>
    public ReadOnlySpan<float> SampleLosses => readout.AsSpan(0, config.BatchSize);

    /// <summary>Where the networks live (null for the CPU).</summary>
    public Device? Device => device;

    /// <summary>Takes every optimizer step with torch ops even where the fused CPU loop applies, as it is taken
    /// on a GPU (to check one path against the other).</summary>
    internal bool TorchOpsOnly
    {
        get => optimizer.Optimizer switch { FlatAdam adam => adam.TorchOpsOnly, FlatRmsProp rms => rms.TorchOpsOnly, _ => false };
        set
        {
            switch (optimizer.Optimizer)
            {
                case FlatAdam adam: adam.TorchOpsOnly = value; break;
                case FlatRmsProp rms: rms.TorchOpsOnly = value; break;
            }
        }
    }

    /// <summary>
    /// Epsilon-greedy actions for a batch of observations (copy after copy): with probability epsilon a
    /// uniformly random action, otherwise the online network's greedy one. Noisy nets act on fresh noise
    /// while training and on their means when <paramref name="evaluation"/> (Dopamine's eval_mode).
    /// </summary>
    public void Act(ReadOnlySpan<float> observations, double epsilon, ref EnvRandom random, Span<int> actions, bool evaluation = false)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(observations.ToArray(), Shape(actions.Length)).ToDevice(device);
        var onMeans = noise is not null && evaluation;
        if (noise is not null && !evaluation) noise.Redraw(online);
        if (onMeans) online.eval();
        Tensor q;
        try { q = online.forward(input); }
        finally { if (onMeans) online.train(); }
        var greedy = q.argmax(1).ToHost().data<long>();
        for (var i = 0; i < actions.Length; i++)
            actions[i] = random.Chance(epsilon) ? random.NextInt(Actions) : (int)greedy[i];
    }

    /// <summary>One gradient update on a replayed batch; returns the loss. <paramref name="timer"/>, when
    /// given, receives the time of each phase (for benchmarks).</summary>
    public float Update(ReplayBatch batch, UpdateTimer? timer = null)
    {
        timer?.Start();
        optimizer.UpdateMasks();
        timer?.Lap(UpdatePhase.MaskUpdate);
        using var scope = NewDisposeScope();
        var (loss, perSample) = Loss(batch, fresh: true);
        timer?.Lap(UpdatePhase.Forward);
        optimizer.ZeroGrad();
        loss.backward();
        l2?.AddGradient();
        if (decayFactor is not null)
            using (no_grad()) onlineParameters.Values.mul_(decayFactor);
        timer?.Lap(UpdatePhase.Backward);
        // The step counts pruned weights' gradients as zero and, since each mask update cleared their
        // optimizer state, leaves them exactly zero without another pass over the weights.
        optimizer.Step();
        timer?.Lap(UpdatePhase.Optimizer);
        Devices.ReadFloats(readout, perSample, loss);
        Updates++;
        timer?.Lap(UpdatePhase.Readout);
        return readout[^1];
    }

    /// <summary>
    /// The batch's loss and each sample's loss [B], with the graph to the online network's parameters
    /// (for per-sample gradients); call inside a dispose scope. It draws nothing: noisy nets keep the noise
    /// they hold and observations are not augmented, so measuring the loss (the analysis) never changes the run.
    /// </summary>
    public (Tensor Loss, Tensor PerSample) Loss(ReplayBatch batch) => Loss(batch, fresh: false);

    /// <summary>The loss; <paramref name="fresh"/>, for an update: fresh noise before every forward pass and augmented observations.</summary>
    private (Tensor Loss, Tensor PerSample) Loss(ReplayBatch batch, bool fresh)
    {
        var b = batch.BatchSize;
        var observations = Observations(batch);
        var next = tensor(batch.NextObservations, Shape(b)).ToDevice(device);
        if (fresh && augmentation is not null)
        {
            // Independent shifts for the two, as Dopamine's _training_step_update (rng1, rng2).
            observations = augmentation.Apply(observations);
            next = augmentation.Apply(next);
        }
        var actions = tensor(batch.Actions).ToDevice(device).view(b, 1);
        var returns = tensor(batch.Returns).ToDevice(device);
        var discounts = tensor(batch.Discounts).ToDevice(device);
        Tensor? weights = config.Replay.IsPrioritizedReplay ? tensor(batch.Weights).ToDevice(device) : null;
        return config.Atoms == 1
            ? ExpectedValueLoss(observations, next, actions, returns, discounts, weights, fresh)
            : DistributionalLoss(observations, next, actions, returns, discounts, weights, fresh);
    }

    /// <summary>A batch's observations as the network's input tensor [B, ...], on the agent's device.</summary>
    public Tensor Observations(ReplayBatch batch) => tensor(batch.Observations, Shape(batch.BatchSize)).ToDevice(device);

    /// <summary>
    /// The batch's TD targets as expected values, R + d * Q_target(s', a*) with a* the target's greedy action (the
    /// online network's under double Q), [B]; the C51 head's Q is its distribution's mean. For analysis: it draws no noise.
    /// </summary>
    public Tensor ExpectedTargets(ReplayBatch batch)
    {
        using var _ = no_grad();
        var next = tensor(batch.NextObservations, Shape(batch.BatchSize)).ToDevice(device);
        var returns = tensor(batch.Returns).ToDevice(device);
        var discounts = tensor(batch.Discounts).ToDevice(device);
        return ValueTargets.QTargets(returns, discounts, target.forward(next), config.DoubleQ ? online.forward(next) : null);
    }

    /// <summary>
    /// After a baseline rewrote entries of the online network (ReDo, Reset): clears the optimizer's state at
    /// exactly those entries, as the reference ReDo code resets the moments of recycled weights.
    /// </summary>
    public void ForgetOptimizerState(Renewal renewal)
    {
        var parameters = online.parameters().ToList();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (parameter, mask) in renewal.Touched)
        {
            var index = parameters.FindIndex(p => ReferenceEquals(p, parameter));
            if (index < 0) throw new ArgumentException("the renewal touched a parameter of another network", nameof(renewal));
            foreach (var state in optimizer.State) onlineParameters.View(state, index).masked_fill_(mask, zero);
        }
    }

    /// <summary>Copies the online network's (masked) weights into the target network.</summary>
    public void SyncTarget()
    {
        using var _ = no_grad();
        targetParameters.Values.copy_(onlineParameters.Values);
    }

    /// <summary>
    /// Writes the agent's state. The gradients are not part of it: every update zeroes them before its
    /// backward pass, and the analysis takes its gradients with autograd.grad.
    /// </summary>
    public void Save(StateWriter writer)
    {
        writer.Write(Updates);
        writer.Write(onlineParameters.Values);
        writer.Write(targetParameters.Values);
        SaveBuffers(online, writer);
        SaveBuffers(target, writer);
        optimizer.Save(writer);
        PrunedOptimizer.SaveMasks(writer, optimizer);
        writer.Write(SampleLosses);
        noise?.Save(writer);
        augmentation?.Save(writer);
    }

    public void Load(StateReader reader)
    {
        Updates = reader.ReadInt64();
        reader.ReadInto(onlineParameters.Values);
        reader.ReadInto(targetParameters.Values);
        LoadBuffers(online, reader);
        LoadBuffers(target, reader);
        optimizer.Load(reader);
        PrunedOptimizer.LoadMasks(reader, optimizer);
        reader.ReadInto(readout.AsSpan(0, config.BatchSize));
        noise?.Load(reader);
        augmentation?.Load(reader);
    }

    /// <summary>A network's buffers by name (C51's support, noisy layers' noise).</summary>
    private static void SaveBuffers(QNetwork network, StateWriter writer)
    {
        var buffers = network.named_buffers().ToList();
        writer.Write(buffers.Count);
        foreach (var (name, buffer) in buffers)
        {
            writer.Write(name);
            writer.Write(buffer);
        }
    }

    private static void LoadBuffers(QNetwork network, StateReader reader)
    {
        var buffers = network.named_buffers().ToList();
        var count = reader.ReadInt32();
        if (count != buffers.Count) throw reader.Problem($"holds {count} network buffers where {buffers.Count} are expected");
        foreach (var (name, buffer) in buffers)
        {
            var stored = reader.ReadString();
            if (stored != name) throw reader.Problem($"holds buffer '{stored}' where '{name}' is expected");
            reader.ReadInto(buffer);
        }
    }

    // The targets come first: a noisy online network draws its noise for the next observations (double Q)
    // before the noise its graph to the parameters keeps, which must not change until the backward pass.
    private (Tensor Loss, Tensor PerSample) ExpectedValueLoss(Tensor observations, Tensor next, Tensor actions, Tensor returns, Tensor discounts, Tensor? weights, bool fresh)
    {
        Tensor targets;
        using (no_grad())
        {
            var nextQ = Forward(target, next, fresh);
            targets = ValueTargets.QTargets(returns, discounts, nextQ, config.DoubleQ ? Forward(online, next, fresh) : null);
        }
        Draw(online, fresh);
        var q = online.forward(observations);
        var taken = q.gather(1, actions).squeeze(1);
        var loss = config.Loss.IsSquared ? ValueTargets.SquaredLoss(taken, targets, weights) : ValueTargets.HuberLoss(taken, targets, weights);
        return Conservative(loss, () => q, actions);
    }

    private (Tensor Loss, Tensor PerSample) DistributionalLoss(Tensor observations, Tensor next, Tensor actions, Tensor returns, Tensor discounts, Tensor? weights, bool fresh)
    {
        var atoms = config.Atoms;
        Tensor projected;
        using (no_grad())
        {
            Draw(target, fresh);
            var nextProbabilities = nn.functional.softmax(target.Logits(next), -1);
            var chooser = config.DoubleQ ? Forward(online, next, fresh) : (nextProbabilities * target.Support).sum(-1);
            var choice = chooser.argmax(1).view(-1, 1, 1).expand(-1, 1, atoms);
            projected = ValueTargets.ProjectDistribution(target.Support, supportBounds, nextProbabilities.gather(1, choice).squeeze(1), returns, discounts);
        }
        Draw(online, fresh);
        var logits = online.Logits(observations);
        var taken = logits.gather(1, actions.view(-1, 1, 1).expand(-1, 1, atoms)).squeeze(1);
        return Conservative(ValueTargets.DistributionLoss(taken, projected, weights),
            () => (nn.functional.softmax(logits, -1) * online.Support).sum(-1), actions);
    }

    /// <summary>Fresh noise for the network's next forward pass, when noisy and drawing.</summary>
    private void Draw(QNetwork network, bool fresh)
    {
        if (fresh) noise?.Redraw(network);
    }

    private Tensor Forward(QNetwork network, Tensor input, bool fresh)
    {
        Draw(network, fresh);
        return network.forward(input);
    }

    /// <summary>The loss plus CQL's penalty on the online Q-values when alpha > 0; each sample's loss stays the TD loss.</summary>
    private (Tensor Loss, Tensor PerSample) Conservative((Tensor Loss, Tensor PerSample) td, Func<Tensor> q, Tensor actions) =>
        conservativeWeight == 0 ? td : (td.Loss.add(ConservativeQ.Penalty(q(), actions).mul(conservativeScale), one), td.PerSample);

    private long[] Shape(int batch) => [batch, .. observationShape];

    public void Dispose()
    {
        noise?.Dispose();
        augmentation?.Dispose();
        l2?.Dispose();
        optimizer.Dispose();
        onlineParameters.Dispose();
        targetParameters.Dispose();
        online.Dispose();
        target.Dispose();
        scalars.Dispose();
    }
}
