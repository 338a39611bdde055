namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// The environment families whose runs share lengths, cadences and networks (Presets.family).
[<RequireQualifiedAccess>]
type EnvironmentFamily =
    /// Gymnasium's classic control tasks with the DQN family (online or offline).
    | ClassicControl
    /// MinAtar's games with the DQN family (online or offline).
    | MinAtar
    /// MinAtar's games under the 100k-interaction budget: DER and DrQ(epsilon).
    | MinAtar100k
    /// Pendulum with SAC.
    | Pendulum
    /// The MuJoCo locomotion tasks with SAC.
    | MuJoCo

/// What a family's runs take unless they say: the network, its width and MLP hidden sizes, the run's
/// length and its cadences of evaluations, analyses and checkpoints (Presets.ofFamily).
type FamilyDefaults =
    { /// The value network (SAC's actor and critics are MLPs).
      Network: NetworkKind
      /// Width multiplier.
      Width: float
      /// An MLP's hidden layers' units before the width scales them.
      MlpHidden: int list
      /// Agent steps of a run.
      Steps: int64
      /// Agent steps between evaluations.
      EvalEvery: int64
      /// Episodes per evaluation.
      EvalEpisodes: int
      /// Agent steps between analyses of the network (0: none).
      AnalyseEvery: int64
      /// Agent steps between checkpoints.
      CheckpointEvery: int64 }

/// The presets: the run a field list starts from, per environment family, agent, preset and baseline.
[<RequireQualifiedAccess>]
module Presets =

    /// The preset a run takes unless it names one: Dopamine's for the DQN family on MinAtar and for DER
    /// and DrQ(eps) everywhere (the paper's protocol); on classic control the Zoo's tuned CartPole DQN (the
    /// base of DQN, Rainbow, CQL and CQL+C51 there) and Pendulum's SAC; Haarnoja et al.'s SAC on MuJoCo.
    let defaultPreset (env: string) (agent: AgentKind) : PresetKind =
        match agent with
        | AgentKind.Der
        | AgentKind.Drq -> PresetKind.Dopamine
        | AgentKind.Sac -> if env = "pendulum" then PresetKind.Zoo else PresetKind.RigL
        | _ -> if RunConfig.isMinAtar env then PresetKind.Dopamine else PresetKind.Zoo

    /// The presets an agent can take on an environment: the DQN family's dopamine and minatar-reference on
    /// MinAtar, zoo on classic control; DER and DrQ(eps) dopamine; SAC haarnoja and rigl everywhere and zoo on Pendulum.
    let presetsFor (env: string) (agent: AgentKind) : PresetKind list =
        match agent with
        | AgentKind.Der
        | AgentKind.Drq -> [ PresetKind.Dopamine ]
        | AgentKind.Sac -> if env = "pendulum" then [ PresetKind.Zoo; PresetKind.Haarnoja; PresetKind.RigL ] else [ PresetKind.RigL; PresetKind.Haarnoja ]
        | _ -> if RunConfig.isMinAtar env then [ PresetKind.Dopamine; PresetKind.MinAtar_Reference ] else [ PresetKind.Zoo ]

    /// The gradient updates between a baseline's applications unless a run says: Reset of the last layer
    /// every 100,000 updates (the paper's Appendix G, "every 100k gradient updates"; 250k was slightly
    /// better), ReDo every 200,000 (dopamine/labs/redo/weight_recyclers.py, BaseRecycler's reset_period =
    /// 200_000), and 100,000 for the others (unused: weight decay and L2 act at every update). Runs much shorter than the paper's 2.5M updates give the
    /// period as a fraction of their updates (0.04 and 0.08 keep the paper's cadence).
    let defaultBaselinePeriod (baseline: BaselineKind) : StepPoint =
        match baseline with
        | BaselineKind.Redo -> StepPoint.Absolute 200_000L
        | BaselineKind.Reset
        | BaselineKind.None
        | BaselineKind.Wd
        | BaselineKind.L2 -> StepPoint.Absolute 100_000L

    /// The family of a run on an environment: SAC's by the environment (Pendulum, else MuJoCo), the DQN
    /// family's MinAtar (100k for DER and DrQ(epsilon)) or classic control.
    let family (env: string) (agent: AgentKind) : EnvironmentFamily =
        match agent with
        | AgentKind.Sac -> if env = "pendulum" then EnvironmentFamily.Pendulum else EnvironmentFamily.MuJoCo
        | AgentKind.Der
        | AgentKind.Drq when RunConfig.isMinAtar env -> EnvironmentFamily.MinAtar100k
        | _ -> if RunConfig.isMinAtar env then EnvironmentFamily.MinAtar else EnvironmentFamily.ClassicControl

    /// The DQN family's MLP: two hidden layers of 128 units, which classic control's width 2 makes the RL
    /// Baselines3 Zoo's CartPole DQN (rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1:
    /// policy_kwargs net_arch=[256, 256]).
    let dqnMlpHidden = [ 128; 128 ]

    /// SAC's MLPs: two hidden layers of 256 units (Haarnoja et al. 2018, Table 1, "number of hidden units
    /// per layer 256", two hidden layers), the actor's and both critics'.
    let sacMlpHidden = [ 256; 256 ]

    /// Each family's defaults, a table as Dopamine's gin files are data.
    /// Classic control: a 128-128 MLP at width 2, 30k steps, evaluations of 5 episodes every 2500, no
    /// analyses (each costs about as much as a thousand steps there), checkpoints every 10k.
    /// MinAtar: the MinAtar network at width 1, 1M steps, evaluations of 10 episodes every 10k with the
    /// network analysed at each, checkpoints every 50k.
    /// MinAtar under the 100k budget: 100k steps, evaluations and analyses every 10k (Dopamine's 10
    /// iterations of 10k steps), checkpoints every 10k.
    /// Pendulum: 256-256 MLPs at width 1, 20k steps, evaluations of 5 episodes every 2000, checkpoints every
    /// 10k, no analyses. MuJoCo: the same networks, 1M steps, 10 episodes every 10k, checkpoints every 50k.
    let ofFamily (family: EnvironmentFamily) : FamilyDefaults =
        match family with
        | EnvironmentFamily.ClassicControl ->
            { Network = NetworkKind.Mlp; Width = 2.0; MlpHidden = dqnMlpHidden; Steps = 30_000L
              EvalEvery = 2500L; EvalEpisodes = 5; AnalyseEvery = 0L; CheckpointEvery = 10_000L }
        | EnvironmentFamily.MinAtar ->
            { Network = NetworkKind.MinAtar; Width = 1.0; MlpHidden = dqnMlpHidden; Steps = 1_000_000L
              EvalEvery = 10_000L; EvalEpisodes = 10; AnalyseEvery = 10_000L; CheckpointEvery = 50_000L }
        | EnvironmentFamily.MinAtar100k ->
            { Network = NetworkKind.MinAtar; Width = 1.0; MlpHidden = dqnMlpHidden; Steps = 100_000L
              EvalEvery = 10_000L; EvalEpisodes = 10; AnalyseEvery = 10_000L; CheckpointEvery = 10_000L }
        | EnvironmentFamily.Pendulum ->
            { Network = NetworkKind.Mlp; Width = 1.0; MlpHidden = sacMlpHidden; Steps = 20_000L
              EvalEvery = 2000L; EvalEpisodes = 5; AnalyseEvery = 0L; CheckpointEvery = 10_000L }
        | EnvironmentFamily.MuJoCo ->
            { Network = NetworkKind.Mlp; Width = 1.0; MlpHidden = sacMlpHidden; Steps = 1_000_000L
              EvalEvery = 10_000L; EvalEpisodes = 10; AnalyseEvery = 0L; CheckpointEvery = 50_000L }

    /// The run a field list starts from before its fields are set, for an environment, agent, preset and
    /// baseline: the family's lengths and network (ofFamily; the rigl preset's SAC at width 5 on MuJoCo, as
    /// the paper ran it), the preset's hyperparameters, pruned to 95% (the paper's main level, "we primarily
    /// focus on this sparsity level") with ERK on the paper's cubic schedule (20% to 80% of the updates,
    /// masks every 1000 updates, every layer's final target scaled by the schedule as JaxPruner), the
    /// width scaling the convolutions (the paper's scope), seed 0, no baseline (period
    /// defaultBaselinePeriod; ReDo tau 0.1, the paper's best in Appendix G; Reset of the last layer).
    /// The DQN family online: the preset's DQN (Dopamine's MinAtar DQN by default on MinAtar, the Zoo's
    /// CartPole DQN on classic control). Rainbow: Dopamine's MinAtar Rainbow (51 atoms on [-100, 100],
    /// 3-step, prioritized) on MinAtar; on classic control C51 on [-100, 100] (returns reach 1 / (1 - gamma)
    /// = 100), 3-step returns and prioritized replay, without double Q. The minatar-reference preset's Rainbow
    /// is the reference DQN with the same C51 support, 3-step returns and prioritized replay.
    /// Initialisation: Xavier-uniform with the dopamine and rigl presets, PyTorch's default with the others.
    /// Analyses: srank on 2048 replay states (coherence_compute.py's), dormant neurons and Q statistics on 256
    /// (labs/redo's batch_size_statistics), drawn afresh at every analysis.
    /// DER and DrQ(epsilon) take their Atari 100k presets (AgentConfig.der, AgentConfig.drqEpsilon) with,
    /// on MinAtar, a replay memory of 100k (holding every step, as the gin's 1M stands for unbounded memory)
    /// and the random shift's padding scaled to 10x10 frames (1 pixel; AgentConfig.proportionalShiftPadding).
    /// DER's support is [-100, 100] (the MinAtar Rainbow gin's; DER.gin's [-10, 10] is for Atari's clipped
    /// rewards). DrQ's augmentation needs image observations (validate says so).
    /// Offline (a step is a gradient update): with the dopamine preset (MinAtar), the paper's Table 3
    /// (AgentConfig.paperCql, AgentConfig.paperCqlC51 on Rainbow's support), both with CQL coefficient 0.1
    /// (ConservativeWeight.paper). With the others (AgentConfig.offlineClock of the family's DQN): CQL with
    /// ConservativeWeight.dqn (1.0, the CQL reference's); CQL+C51 adds C51 over 51 atoms on Rainbow's support,
    /// 1-step returns and double Q, weight ConservativeWeight.c51.
    /// SAC: SacConfig.pendulum with the zoo preset, SacConfig.haarnoja, SacConfig.rigl; actor and critics
    /// pruned alike, no analyses.
    let defaultsOf (env: string) (agent: AgentKind) (preset: PresetKind) (baseline: BaselineKind) : RunConfig =
        let minatar = RunConfig.isMinAtar env
        let dqn =
            match preset with
            | PresetKind.Dopamine when minatar -> AgentConfig.dopamineMinatarDqn
            | PresetKind.MinAtar_Reference -> AgentConfig.minatarDqn
            | _ -> if minatar then AgentConfig.dopamineMinatarDqn else AgentConfig.cartpoleDqn
        // C51's support: [-100, 100] everywhere here, as Dopamine's MinAtar Rainbow gin (vmax = 100.): MinAtar's
        // and classic control's unclipped discounted returns exceed Atari's [-10, 10] (made for clipped rewards).
        let support = 100.0
        let c51 = { dqn with Atoms = 51; VMin = -support; VMax = support }
        let rainbow =
            if minatar && preset = PresetKind.Dopamine then AgentConfig.dopamineMinatarRainbow
            else { dqn with Atoms = 51; VMin = -100.0; VMax = 100.0; NStep = 3; DoubleQ = false; Replay = PrioritizedReplay(0.5, 0.5, 0L) }
        let sampleEfficient (preset: AgentConfig) =
            { preset with
                ReplayCapacity = if minatar then 100_000 else preset.ReplayCapacity
                VMin = -support
                VMax = support
                ShiftPadding = if minatar then AgentConfig.proportionalShiftPadding 10 else preset.ShiftPadding }
        let hyperparameters =
            match agent with
            | AgentKind.Rainbow -> rainbow
            | AgentKind.Der -> sampleEfficient AgentConfig.der
            | AgentKind.Drq -> sampleEfficient AgentConfig.drqEpsilon
            | AgentKind.Cql when preset = PresetKind.Dopamine -> AgentConfig.paperCql
            | AgentKind.Cql_C51 when preset = PresetKind.Dopamine -> AgentConfig.paperCqlC51 rainbow.VMin rainbow.VMax
            | AgentKind.Cql -> AgentConfig.offlineClock dqn
            | AgentKind.Cql_C51 -> AgentConfig.offlineClock { c51 with VMin = rainbow.VMin; VMax = rainbow.VMax }
            | AgentKind.Dqn
            | AgentKind.Sac -> dqn
        let lengths = ofFamily (family env agent)
        { Agent = agent
          Env = env
          Preset = preset
          Network = lengths.Network
          MlpHidden = lengths.MlpHidden
          Width = if preset = PresetKind.RigL && family env agent = EnvironmentFamily.MuJoCo then 5.0 else lengths.Width
          WidthScope = WidthScope.Conv
          Init = if preset = PresetKind.Dopamine || preset = PresetKind.RigL then Initialization.Xavier_Uniform else Initialization.Torch_Default
          Sparsity = 0.95
          Ramp = RampKind.Polynomial
          Power = 3.0
          PruneStart = 0.2
          PruneEnd = 0.8
          PruneEvery = 1000L
          Distribution = DistributionKind.Erk
          LayerSchedule = Scaled
          Method = RunConfig.defaultMethod
          Ticket = None
          RewindStep = RunConfig.defaultRewindStep
          DropFraction = RunConfig.defaultDropFraction
          RewireEvery = RunConfig.defaultRewireEvery
          Baseline = baseline
          BaselinePeriod = defaultBaselinePeriod baseline
          RedoTau = 0.1
          WeightDecay = 1e-5
          ResetLayers = 1
          Steps = lengths.Steps
          Seed = 0L
          Device = DeviceKind.Auto
          EvalEvery = lengths.EvalEvery
          EvalEpisodes = lengths.EvalEpisodes
          AnalyseEvery = lengths.AnalyseEvery
          SrankStates = 2048
          DormantStates = 256
          CheckpointEvery = lengths.CheckpointEvery
          StopAt = None
          Hyperparameters = hyperparameters
          Sac =
            match preset with
            | PresetKind.Zoo -> SacConfig.pendulum
            | PresetKind.RigL -> SacConfig.rigl
            | _ -> SacConfig.haarnoja
          Dataset = None
          ConservativeWeight = if preset = PresetKind.Dopamine || agent = AgentKind.Cql_C51 then ConservativeWeight.paper else ConservativeWeight.dqn
          RecordDataset = false }

    /// The run a field list starts from for an environment and agent: its default preset, no baseline (defaultsOf).
    let defaults (env: string) (agent: AgentKind) : RunConfig = defaultsOf env agent (defaultPreset env agent) BaselineKind.None
