namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// What the core needs to know of an environment to check a run against it.
type EnvironmentInfo =
    { /// The registry id, e.g. "minatar/breakout".
      Id: string
      /// One observation's shape: [features] or [channels; height; width].
      ObservationShape: int list
      /// Whether the actions are discrete (the DQN family needs them to be).
      DiscreteActions: bool
      /// Why the environment cannot run on this machine (a missing physics engine, say); None when it can.
      Unavailable: string option }

/// One training run, fully resolved: every knob has a value. Steps are agent steps unless named
/// otherwise; pruning's start and end are fractions of the run's gradient updates (the pruning
/// schedule counts updates, as JaxPruner). Made by Resolution.resolve, checked by RunValidation.validate.
type RunConfig =
    { /// The agent.
      Agent: AgentKind
      /// The environment's registry id.
      Env: string
      /// The value network.
      Network: NetworkKind
      /// An MLP's hidden layers' units before the width scales them (the DQN family's value network when it
      /// is mlp, SAC's actor and critics); other networks have their own shapes.
      MlpHidden: int list
      /// Whose defaults the run starts from.
      Preset: PresetKind
      /// Width multiplier of the channels and units in its scope.
      Width: float
      /// Which layers the width scales.
      WidthScope: WidthScope
      /// How the value network's plain layers start.
      Init: Initialization
      /// Final sparsity in [0, 1); 0 trains a dense network.
      Sparsity: float
      /// The ramp of the gradual schedule.
      Ramp: RampKind
      /// The polynomial ramp's exponent (3 in the paper).
      Power: float
      /// Pruning starts at this fraction of the gradient updates.
      PruneStart: float
      /// Pruning reaches the final sparsity at this fraction of the gradient updates.
      PruneEnd: float
      /// Gradient updates between mask updates.
      PruneEvery: int64
      /// How sparsity spreads over layers.
      Distribution: DistributionKind
      /// How per-layer targets follow the schedule (Plan.LayerTiming).
      LayerSchedule: LayerTiming
      /// How the network is trained sparse: gradual magnitude pruning (the paper's) or a method it is compared
      /// with (static sparse, lottery ticket, SET, RigL; SparseMethod).
      Method: SparseMethod
      /// Method lottery: the folder of the finished gmp run whose ticket (RunFormat.TicketFile) it retrains.
      Ticket: string option
      /// The lottery ticket's rewind step in gradient updates (0: the initial weights): a gmp run records its
      /// weights there too, a lottery run starts from the weights recorded there.
      RewindStep: int64
      /// SET and RigL: the fraction of kept weights dropped (and regrown) at the first rewiring, decaying with a cosine to 0.
      DropFraction: float
      /// SET and RigL: gradient updates between rewirings.
      RewireEvery: int64
      /// Reset, ReDo or none (dense networks only).
      Baseline: BaselineKind
      /// Gradient updates between applications of the baseline.
      BaselinePeriod: StepPoint
      /// ReDo's dormancy threshold tau.
      RedoTau: float
      /// The weight-decay and L2 baselines' coefficient lambda.
      WeightDecay: float
      /// Reset: how many of the last layers are renewed (1 or 2).
      ResetLayers: int
      /// Agent steps of the run.
      Steps: int64
      /// Seed of everything random in the run.
      Seed: int64
      /// Where the tensors live.
      Device: DeviceKind
      /// Agent steps between greedy evaluations (0: none).
      EvalEvery: int64
      /// Episodes per evaluation.
      EvalEpisodes: int
      /// Agent steps between measurements of the network on fresh replay states (0: none).
      AnalyseEvery: int64
      /// Replay states the effective rank is measured on.
      SrankStates: int
      /// Replay states dormant neurons and Q statistics are measured on.
      DormantStates: int
      /// Agent steps between checkpoints (0: none).
      CheckpointEvery: int64
      /// Stop once an evaluation's mean return reaches this.
      StopAt: float option
      /// The DQN family's hyperparameters (online and offline); the replay ratio is UpdatesPerStep / UpdatePeriod.
      Hyperparameters: AgentConfig
      /// SAC's hyperparameters, the agent's when it is SAC (the shared knobs gamma, batch size, replay
      /// capacity, warm-up and replay ratio then set these).
      Sac: SacConfig
      /// Offline agents: the dataset file (PRLDATA, recorded by a DQN-family run) they learn from.
      Dataset: string option
      /// Offline agents: CQL's weight alpha (ConservativeWeight).
      ConservativeWeight: float
      /// Online DQN family: record the run's experience as a dataset in its folder.
      RecordDataset: bool }

/// What a run derives from its configuration: its kind of agent, its clock of gradient updates, its
/// pruning schedule.
[<RequireQualifiedAccess>]
module RunConfig =

    /// How a run trains sparse unless it says: gradual magnitude pruning, the paper's method (Obando-Ceron et al.
    /// 2024, sec. 3: Zhu and Gupta 2017's polynomial schedule), and what every run before the other methods
    /// (issue 18) trained; a config.json without a method reads as gmp.
    let defaultMethod: SparseMethod = GMP

    /// The lottery ticket's rewind step unless a run says: 0, the initial weights (Frankle and Carbin 2019, "The
    /// lottery ticket hypothesis", sec. 1: reset the remaining parameters to their values in theta_0); Frankle et al.
    /// (2020, sec. 5) rewind to an early iteration k instead, which rewind_step k asks for.
    let defaultRewindStep: int64 = 0L

    /// SET's and RigL's drop fraction unless a run says: 0.3, JaxPruner's Dopamine DQN config
    /// (jaxpruner/baselines/dopamine/configs/dqn.gin line 49, commit f133ee5; DropFraction.jaxPrunerSpec).
    let defaultDropFraction: float = DropFraction.jaxPrunerSpec.DropFraction

    /// SET's and RigL's gradient updates between rewirings unless a run says: 5000, JaxPruner's Dopamine DQN config
    /// (dqn.gin line 48, update_freq; DropFraction.jaxPrunerSpec). A run much shorter than the paper's 2.5M updates
    /// rewires only when given a shorter period.
    let defaultRewireEvery: int64 = DropFraction.jaxPrunerSpec.RewireEvery

    /// The drop schedule SET and RigL follow in a run, as JaxPruner's Dopamine config (DropFraction.jaxPrunerSpec:
    /// cosine to 0 at 80% of the updates, from update 1) at the run's drop fraction and period.
    let dropSpec (c: RunConfig) : DropSpec =
        { DropFraction.jaxPrunerSpec with DropFraction = c.DropFraction; RewireEvery = c.RewireEvery }

    /// Whether an agent learns offline, from a dataset (CQL, CQL+C51).
    let isOffline (agent: AgentKind) = agent = AgentKind.Cql || agent = AgentKind.Cql_C51

    /// Whether the run trains SAC (its knobs then live in RunConfig.Sac).
    let isSac (c: RunConfig) = c.Agent = AgentKind.Sac

    /// Whether an environment id belongs to MinAtar (its games take the MinAtar presets).
    let isMinAtar (env: string) = env.StartsWith("minatar/", StringComparison.Ordinal)

    /// The schedule's ramp of a kind: the polynomial ramp of the power, linear (power 1) or cosine.
    let ramp (kind: RampKind) (power: float) : Ramp =
        match kind with
        | RampKind.Polynomial -> Polynomial power
        | RampKind.Linear -> Polynomial 1.0
        | RampKind.Cosine -> Cosine

    /// The gradual schedule a pruned run follows, as the training loop takes it (steps as fractions
    /// of the gradient updates, Zhu and Gupta's counting); None for a dense run.
    let pruning (c: RunConfig) : GradualSpec option =
        if c.Sparsity = 0.0 then None
        else
            Some
                { InitialSparsity = 0.0
                  FinalSparsity = c.Sparsity
                  Shape = ramp c.Ramp c.Power
                  PruneStart = StepPoint.Fraction c.PruneStart
                  PruneEnd = StepPoint.Fraction c.PruneEnd
                  PruneEvery = c.PruneEvery
                  Counting = ZhuGupta }

    /// The learning clock of the run's agent: the DQN family's hyperparameters, or for SAC the same with
    /// SAC's warm-up, update period and updates per step (the fields the clock reads).
    let clock (c: RunConfig) : AgentConfig =
        if isSac c then
            { c.Hyperparameters with MinReplay = c.Sac.MinReplay; UpdatePeriod = c.Sac.UpdatePeriod; UpdatesPerStep = c.Sac.UpdatesPerStep }
        else c.Hyperparameters

    /// Gradient updates the run takes (AgentConfig.gradientUpdates on its agent's clock; an offline run's
    /// steps are its updates).
    let gradientUpdates (c: RunConfig) : int64 = AgentConfig.gradientUpdates (clock c) c.Steps

    /// The gradient updates between the baseline's applications: the period itself, or its fraction of the
    /// run's updates (rounded, at least 1).
    let baselinePeriodUpdates (c: RunConfig) : int64 =
        match c.BaselinePeriod with
        | StepPoint.Absolute n -> n
        | StepPoint.Fraction f -> max 1L (int64 (Math.Round(f * float (gradientUpdates c))))

    /// The agent step of gradient update u (from 0) in the run (AgentConfig.stepOfUpdate on its agent's clock).
    let stepOfUpdate (c: RunConfig) (update: int64) : int64 = AgentConfig.stepOfUpdate (clock c) update

    /// The run's replay ratio: gradient updates per agent step of its agent.
    let replayRatio (c: RunConfig) : float = ReplayRatio.ofAgent (clock c)

    /// The pruning schedule resolved over the run's gradient updates (at least 1); None for a dense run.
    let schedule (c: RunConfig) : Result<Schedule option, string> =
        match pruning c with
        | None -> Ok None
        | Some spec -> Schedule.gradual (max 1L (gradientUpdates c)) spec |> Result.map Some
