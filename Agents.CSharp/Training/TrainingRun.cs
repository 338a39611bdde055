using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Prunerl.Agents.Envs;
using Prunerl.Agents.Networks;
using Prunerl.Agents.Runtime;
using Prunerl.Core;
using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>
/// A run's config made a training run, in one place: <c>prunerl train</c>, <c>bench</c>, sweeps and studies call
/// <see cref="Run(RunConfig, RunHooks?)"/>; the run's network, pruning, baseline and family part are read off the
/// config here and nowhere else.
/// </summary>
public static class TrainingRun
{
    /// <summary>Trains the spec's run with its family's learner on the shared loop (<see cref="TrainingSession"/>): hooks,
    /// checkpoints, resume and cancellation as <see cref="DqnTraining.Run"/> says.</summary>
    public static TrainingResult Run(RunSpec spec, RunHooks? hooks = null)
    {
        hooks ??= new RunHooks();
        return spec.Family switch
        {
            DqnFamily dqn => DqnTraining.Run(spec, dqn, hooks),
            SacFamily sac => SacTraining.Run(spec, sac, hooks),
            OfflineFamily offline => OfflineTraining.Run(spec, offline, hooks),
            _ => throw new ArgumentException($"no training loop for {spec.Family.GetType().Name}", nameof(spec)),
        };
    }

    /// <summary>Trains the run a config describes (<see cref="For"/>): what <c>prunerl train</c> runs, and <c>bench agents</c> times.</summary>
    public static TrainingResult Run(RunConfig config, RunHooks? hooks = null) => Run(For(config), hooks);

    /// <summary>The run a config describes: one environment copy, its network, pruning, family part, evaluations and
    /// early stop, and its fingerprint (<see cref="RunFingerprint"/>) for its checkpoints.</summary>
    public static RunSpec For(RunConfig config) =>
        new(config.Env, Family(config), Network(config), config.Steps, config.Seed, Pruning(config), 1, config.EvalEvery,
            config.EvalEpisodes, null, OptionModule.ToNullable(config.StopAt))
        {
            Configuration = RunFingerprint.Of(config),
        };

    /// <summary>The network of a run: its torso (an MLP of the config's hidden sizes, or a convolutional torso) at the
    /// run's width and scope. The init field is the DQN family's; SAC's networks start as its preset's code base starts
    /// them (Xavier-uniform on rigl's, PyTorch's default on the others).</summary>
    public static NetworkSpec Network(RunConfig config)
    {
        var init = !config.Agent.IsSac ? config.Init
            : config.Preset.IsRigL ? Initialization.Xavier_Uniform : Initialization.Torch_Default;
        return new NetworkSpec(config.Network, Width: config.Width, MlpHidden: config.Network.IsMlp ? [.. config.MlpHidden] : null,
            Scope: config.WidthScope, Init: init);
    }

    /// <summary>The torch threads a run trains with unless told (<see cref="TorchThreads.For"/>: OMP_NUM_THREADS, else by the network's size).</summary>
    public static int DefaultThreads(RunConfig config) => TorchThreads.For(QNetwork.ParameterCount(config.Env, Network(config)));

    /// <summary>Every registered environment as the core checks runs against it (<see cref="Resolution"/>), made once.</summary>
    public static FSharpList<EnvironmentInfo> Environments => environments.Value;

    private static readonly Lazy<FSharpList<EnvironmentInfo>> environments = new(() => ListModule.OfSeq(EnvironmentRegistry.Entries.Select(Describe)));

    private static EnvironmentInfo Describe(EnvironmentEntry entry)
    {
        if (entry.UnavailableReason is { } reason) return new EnvironmentInfo(entry.Id, FSharpList<int>.Empty, false, FSharpOption<string>.Some(reason));
        var environment = entry.Create(EnvironmentOptions.Default);
        return new EnvironmentInfo(entry.Id, ListModule.OfSeq(environment.ObservationSpace.Shape), environment.ActionSpace is DiscreteSpace,
            FSharpOption<string>.None);
    }

    /// <summary>The family part: SAC's hyperparameters; the DQN family's with its analyses and baseline, offline with its dataset and CQL's weight.</summary>
    private static FamilySpec Family(RunConfig config)
    {
        if (config.Agent.IsSac) return new SacFamily(config.Sac);
        var dqn = new DqnFamily(config.Hyperparameters, config.AnalyseEvery, Baseline(config), config.SrankStates, config.DormantStates);
        if (!RunConfigModule.isOffline(config.Agent)) return dqn;
        var dataset = config.Dataset?.Value ?? throw new ArgumentException("an offline run names its dataset", nameof(config));
        return new OfflineFamily(dataset, config.ConservativeWeight, dqn);
    }

    /// <summary>The pruning a run asks for (of every network it trains); null for a dense run. A method other than gmp
    /// trains at the schedule's final sparsity from step 0: a random static mask (JaxPruner's StaticRandomSparse), SET's and
    /// RigL's drops on JaxPruner's Dopamine schedule (<c>DropFraction.jaxPrunerSpec</c>) at the config's drop fraction and period, a lottery ticket from the
    /// ticket file in the config's ticket folder.</summary>
    private static PruningRequest? Pruning(RunConfig config)
    {
        if (RunConfigModule.pruning(config)?.Value is not { } schedule) return null;
        var allocation = config.Distribution.IsErk ? Allocation.NewLayerWise(Distribution.NewErk(1.0)) : Allocation.NewLayerWise(Distribution.Uniform);
        var method = config.Method.IsGMP ? null
            : new SparseMethodRequest(config.Method, StaticInit.RandomInit, RunConfigModule.dropSpec(config),
                config.Ticket?.Value is { } folder ? Path.Combine(folder, RunFormat.TicketFile) : null);
        return new PruningRequest(schedule, allocation, Sparsity.paperScope, config.LayerSchedule, method, config.RewindStep);
    }

    /// <summary>The baseline a run asks for; null for none.</summary>
    private static BaselineRequest? Baseline(RunConfig config) => config.Baseline.IsNone ? null
        : new BaselineRequest(config.Baseline, RunConfigModule.baselinePeriodUpdates(config), config.ResetLayers, config.RedoTau, config.WeightDecay);
}
