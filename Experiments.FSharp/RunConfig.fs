namespace Prunerl.Experiments

open System
open System.Globalization
open Prunerl.Core
open Prunerl.Core.Validate

/// Which agent a run trains: the DQN family online (discrete actions), SAC (continuous actions), or
/// the DQN family offline from a recorded dataset (CQL, CQL+C51).
[<RequireQualifiedAccess>]
type AgentKind =
    /// DQN (Mnih et al. 2015) with the environment family's preset.
    | Dqn
    /// Rainbow as Dopamine builds it (Hessel et al. 2018): the family's DQN with C51 over 51 atoms,
    /// 3-step returns and prioritized replay (alpha 0.5, beta 0.5), without double Q.
    | Rainbow
    /// Data-efficient Rainbow (van Hasselt et al. 2019) for the 100k-interaction budget: AgentConfig.der.
    | Der
    /// DrQ(epsilon) (Kostrikov et al. 2020; Agarwal et al. 2021) for the 100k-interaction budget: AgentConfig.drqEpsilon.
    | Drq
    /// Soft actor-critic (Haarnoja et al. 2018) for continuous actions; its hyperparameters are RunConfig.Sac.
    | Sac
    /// Offline CQL (Kumar et al. 2020): the family's DQN trained from a dataset with CQL's regulariser.
    | Cql
    /// Offline CQL+C51: the same with C51's distribution over 51 atoms (Dopamine's offline C51 agents).
    | CqlC51

/// Which value network a run trains (every layer's channels and units scaled by the width).
[<RequireQualifiedAccess>]
type NetworkKind =
    /// Two hidden layers of 128 units: classic control.
    | Mlp
    /// The MinAtar network (Young and Tian 2019): conv 16 3x3, dense 128.
    | MinAtar
    /// The Nature DQN network (Mnih et al. 2015), made for 84x84 frames.
    | Nature
    /// The Impala ResNet (Espeholt et al. 2018): 3 stacks of 16, 32, 32 channels, dense 512.
    | Impala

/// A named set of an agent's defaults (its hyperparameters and network initialisation), as an upstream
/// code base sets them; fields given with a run override it.
[<RequireQualifiedAccess>]
type PresetKind =
    /// Dopamine's gin files for the agent and environment family: on MinAtar
    /// (dopamine/labs/environments/minatar/dqn.gin, rainbow.gin), AgentConfig.dopamineMinatarDqn and
    /// dopamineMinatarRainbow; DER and DrQ(eps) dopamine/labs/atari_100k; Xavier-uniform initialisation.
    | Dopamine
    /// The MinAtar reference DQN (Young and Tian 2019, examples/dqn.py): AgentConfig.minatarDqn, PyTorch's
    /// default initialisation.
    | MinAtarReference
    /// Tuned for a classic-control task after the RL Baselines3 Zoo (CartPole's DQN, AgentConfig.cartpoleDqn;
    /// Pendulum's SAC, SacConfig.pendulum); PyTorch's default initialisation.
    | Zoo
    /// Soft actor-critic as Haarnoja et al. (2018b) set it (SacConfig.haarnoja).
    | Haarnoja
    /// Soft actor-critic as the pruning paper ran it, on google-research/rigl's rl/tfagents (SacConfig.rigl),
    /// width 5 on MuJoCo; Xavier-uniform (Keras's glorot_uniform) kernels and zero biases.
    | RigL

/// Which layers the width multiplier scales.
[<RequireQualifiedAccess>]
type WidthScope =
    /// The convolutions' channels (and an MLP's hidden layers, its whole torso); the dense layer after the
    /// convolutions keeps its units. The paper's: "we scaled the convolutional layers by a factor of 3"
    /// (Obando-Ceron et al. 2024, sec. 4), as Dopamine's ImpalaDQNNetwork, whose nn_scale multiplies the
    /// encoder's channels and leaves the 512-unit dense layer (dopamine/jax/networks.py).
    | Conv
    /// Every hidden layer, the dense one after the convolutions too: Dopamine labs/redo's networks.
    | All

/// How a value network's weights start.
[<RequireQualifiedAccess>]
type Initialization =
    /// Xavier-uniform kernels (Glorot and Bengio 2010: U(-b, b), b = sqrt(6 / (fan_in + fan_out))) and zero
    /// biases: Dopamine's networks (dopamine/jax/networks.py, `nn.initializers.xavier_uniform()` as every
    /// layer's kernel_init; flax's biases start at zero), and labs/redo's renewals (zero biases).
    | XavierUniform
    /// PyTorch's default: kernels and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with
    /// a = sqrt(5), and its bias rule): the MinAtar reference DQN's (examples/dqn.py), a PyTorch program.
    | TorchDefault

/// The ramp of the gradual pruning schedule (Schedule.Ramp).
[<RequireQualifiedAccess>]
type RampKind =
    /// Zhu and Gupta's polynomial ramp (1 - p)^power; the paper's is cubic.
    | Polynomial
    /// The cosine ramp (1 + cos(pi p)) / 2.
    | Cosine

/// How the target sparsity spreads over the layers (Sparsity.Distribution).
[<RequireQualifiedAccess>]
type DistributionKind =
    /// The same sparsity in every pruned layer.
    | Uniform
    /// Erdos-Renyi-Kernel (Evci et al. 2020) with power scale 1.
    | Erk

/// A baseline the paper compares pruning with (its Figure 12 and Appendix G).
[<RequireQualifiedAccess>]
type BaselineKind =
    /// No baseline.
    | NoBaseline
    /// Reset the last layers (Nikishin et al. 2022); dense networks.
    | Reset
    /// ReDo: recycle tau-dormant neurons (Sokar et al. 2023); dense networks.
    | Redo
    /// Decoupled weight decay (AdamW) of coefficient weight_decay; dense or pruned.
    | WeightDecay
    /// An L2 term weight_decay * sum w^2 over the kernels in the loss; dense or pruned.
    | L2

/// Where a run's tensors live: auto takes CUDA when it is available.
[<RequireQualifiedAccess>]
type DeviceKind =
    /// CUDA when available, else the CPU.
    | Auto
    /// The CPU.
    | Cpu
    /// An NVIDIA GPU.
    | Cuda

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
/// schedule counts updates, as JaxPruner). Made by RunConfig.resolve, checked by RunConfig.validate.
type RunConfig =
    { /// The agent.
      Agent: AgentKind
      /// The environment's registry id.
      Env: string
      /// The value network.
      Network: NetworkKind
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

/// A value of a run field as a file or a flag gives it.
type FieldValue =
    /// A string (a name, or a number written as text on a command line).
    | Text of string
    /// A number.
    | Number of float
    /// true or false.
    | Switch of bool
    /// JSON's null: no value (for optional fields).
    | Empty

/// One knob of a run as files and flags name it (snake_case): how to read it off a config and how to
/// set it from a value. Setting parses the value; RunConfig.validate checks ranges.
type RunField =
    { /// The field's name in config.json (the flag is --name with '-' for '_').
      Name: string
      /// What it is, for help texts.
      Help: string
      /// The field's value in a config.
      Read: RunConfig -> FieldValue
      /// The config with the field set to a value; an error naming the field when the value has the wrong kind.
      Write: FieldValue -> RunConfig -> Result<RunConfig, string> }

/// Run configurations: defaults per environment family, the fields by name, resolution, validation,
/// and what a run derives from them (the pruning schedule, its name in a sweep).
[<RequireQualifiedAccess>]
module RunConfig =

    /// The format tag written first in every config.json.
    let format = "prunerl-run/1"

    /// A field's value as a message shows it: strings quoted, numbers in their shortest exact form.
    let describe (value: FieldValue) : string =
        match value with
        | Text s -> sprintf "'%s'" s
        | Number x -> show x
        | Switch b -> if b then "true" else "false"
        | Empty -> "null"

    let private number (field: string) (value: FieldValue) : Result<float, string> =
        match value with
        | Number x -> Ok x
        | Text s ->
            match Double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, x -> Ok x
            | _ -> Error(sprintf "%s must be a number, got '%s'" field s)
        | other -> Error(sprintf "%s must be a number, got %s" field (describe other))

    let private whole (field: string) (lo: int64) (hi: int64) (value: FieldValue) : Result<int64, string> =
        number field value
        |> Result.bind (fun x ->
            if Double.IsFinite x && Math.Floor x = x && x >= float lo && x <= float hi then Ok(int64 x)
            elif Double.IsFinite x && Math.Floor x = x && x < float lo then Error(sprintf "%s must be >= %d, got %s" field lo (show x))
            else Error(sprintf "%s must be a whole number in [%d, %d], got %s" field lo hi (show x)))

    let private choice (field: string) (choices: (string * 'a) list) (value: FieldValue) : Result<'a, string> =
        let allowed () = choices |> List.map fst |> String.concat ", "
        match value with
        | Text s ->
            match choices |> List.tryFind (fun (name, _) -> name = s) with
            | Some(_, x) -> Ok x
            | None -> Error(sprintf "%s must be one of %s, got '%s'" field (allowed ()) s)
        | other -> Error(sprintf "%s must be one of %s, got %s" field (allowed ()) (describe other))

    /// The name a value has in a list of choices (agents, networks, distributions, baselines, devices by name).
    let nameIn (choices: (string * 'a) list) (x: 'a) : string = choices |> List.find (fun (_, y) -> y = x) |> fst

    let private switch (field: string) (value: FieldValue) : Result<bool, string> =
        match value with
        | Switch b -> Ok b
        | Text "true" -> Ok true
        | Text "false" -> Ok false
        | other -> Error(sprintf "%s must be true or false, got %s" field (describe other))

    /// The agents by name.
    let agents = [ "dqn", AgentKind.Dqn; "rainbow", AgentKind.Rainbow; "der", AgentKind.Der; "drq", AgentKind.Drq; "sac", AgentKind.Sac; "cql", AgentKind.Cql; "cql-c51", AgentKind.CqlC51 ]
    /// The networks by name.
    let networks = [ "mlp", NetworkKind.Mlp; "minatar", NetworkKind.MinAtar; "nature", NetworkKind.Nature; "impala", NetworkKind.Impala ]
    /// The schedule's ramps by name.
    let ramps = [ "polynomial", RampKind.Polynomial; "cosine", RampKind.Cosine ]
    /// The distributions by name.
    let distributions = [ "uniform", DistributionKind.Uniform; "erk", DistributionKind.Erk ]
    /// The baselines by name.
    let baselines = [ "none", BaselineKind.NoBaseline; "reset", BaselineKind.Reset; "redo", BaselineKind.Redo; "wd", BaselineKind.WeightDecay; "l2", BaselineKind.L2 ]
    /// The presets by name.
    let presets = [ "dopamine", PresetKind.Dopamine; "minatar-reference", PresetKind.MinAtarReference; "zoo", PresetKind.Zoo; "haarnoja", PresetKind.Haarnoja; "rigl", PresetKind.RigL ]
    /// The width scopes by name.
    let widthScopes = [ "conv", WidthScope.Conv; "all", WidthScope.All ]
    /// The initialisations by name.
    let initializations = [ "xavier-uniform", Initialization.XavierUniform; "torch-default", Initialization.TorchDefault ]
    /// The per-layer timings by name.
    let layerSchedules = [ "scaled", ScaledFinal; "resolved", Resolved ]
    /// The devices by name.
    let devices = [ "auto", DeviceKind.Auto; "cpu", DeviceKind.Cpu; "cuda", DeviceKind.Cuda ]

    /// The replay ratio (gradient updates per agent step) of a configuration: updates_per_step / update_period.
    let replayRatio (c: AgentConfig) : float = float c.UpdatesPerStep / float c.UpdatePeriod

    /// A replay ratio as the loop takes it: a whole number r >= 1 is r updates every step, 1/k an
    /// update every k steps; anything else is refused, naming what is allowed.
    let replayRatioSchedule (ratio: float) : Result<int * int, string> =
        let refuse () =
            Error(sprintf "replay_ratio must be a whole number of updates per step (1, 2, 4, ...) or 1/k, an update every k steps (0.5, 0.25, ...), got %s" (show ratio))
        if not (Double.IsFinite ratio && ratio > 0.0) then refuse ()
        elif ratio >= 1.0 then
            if Math.Floor ratio = ratio && ratio <= 1e6 then Ok(1, int ratio) else refuse ()
        else
            let k = Math.Round(1.0 / ratio)
            if k <= 1e9 && abs (1.0 / k - ratio) <= 1e-12 * ratio then Ok(int k, 1) else refuse ()

    /// A replay ratio as a file or a flag gives it: a number (0.25, 2), the same as text ("0.25"), or a
    /// fraction "a/b" of two numbers ("1/4", the form the help documents). Whether the loop can take the
    /// ratio is replayRatioSchedule's to say; this only reads it.
    let replayRatioValue (value: FieldValue) : Result<float, string> =
        let parse (text: string) =
            match Double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, x -> Some x
            | _ -> None
        let refuse (got: string) = Error(sprintf "replay_ratio must be a number (1, 2, 0.25, ...) or a fraction 1/k (1/4, ...), got %s" got)
        match value with
        | Number x -> Ok x
        | Text s ->
            match s.Split('/') with
            | [| whole |] -> parse whole |> Option.map Ok |> Option.defaultWith (fun () -> refuse (describe value))
            | [| numerator; denominator |] ->
                match parse numerator, parse denominator with
                | Some a, Some b when b <> 0.0 -> Ok(a / b)
                | _ -> refuse (describe value)
            | _ -> refuse (describe value)
        | other -> refuse (describe other)

    let private learningRate (c: AgentConfig) =
        match c.Optimizer with
        | Adam(lr, _) -> lr
        | RmsProp(lr, _, _, _) -> lr

    let private withLearningRate (lr: float) (c: AgentConfig) =
        match c.Optimizer with
        | Adam(_, eps) -> { c with Optimizer = Adam(lr, eps) }
        | RmsProp(_, alpha, eps, centered) -> { c with Optimizer = RmsProp(lr, alpha, eps, centered) }

    let private knob name help read write = { Name = name; Help = help; Read = read; Write = write }

    /// Whether an agent learns offline, from a dataset (CQL, CQL+C51).
    let isOffline (agent: AgentKind) = agent = AgentKind.Cql || agent = AgentKind.CqlC51

    let private isSac (c: RunConfig) = c.Agent = AgentKind.Sac

    /// A knob every agent has (gamma, batch size, ...), read from the record of the run's agent: SAC's or the DQN family's.
    let private onAgent (ofSac: SacConfig -> 'a) (ofDqn: AgentConfig -> 'a) (c: RunConfig) : 'a =
        if isSac c then ofSac c.Sac else ofDqn c.Hyperparameters

    /// The config with a knob every agent has set on the record of the run's agent.
    let private setOnAgent (setSac: SacConfig -> 'a -> SacConfig) (setDqn: AgentConfig -> 'a -> AgentConfig) (c: RunConfig) (x: 'a) =
        if isSac c then { c with Sac = setSac c.Sac x } else { c with Hyperparameters = setDqn c.Hyperparameters x }

    let private numberField name help (get: RunConfig -> float) set =
        knob name help (get >> Number) (fun v c -> number name v |> Result.map (set c))

    /// Whole numbers a JSON number holds exactly: |n| &lt;= 2^53.
    let private exactWhole = 9_007_199_254_740_992L

    let private wholeField name help (get: RunConfig -> int64) set =
        knob name help (get >> float >> Number) (fun v c -> whole name -exactWhole exactWhole v |> Result.map (set c))

    let private intField name help (get: RunConfig -> int) set =
        knob name help (get >> float >> Number) (fun v c -> whole name (int64 Int32.MinValue) (int64 Int32.MaxValue) v |> Result.map (int >> set c))

    let private choiceField name help (choices: (string * 'a) list) (get: RunConfig -> 'a) set =
        knob name help (get >> nameIn choices >> Text) (fun v c -> choice name choices v |> Result.map (set c))

    let private switchField name help (get: RunConfig -> bool) set =
        knob name help (get >> Switch) (fun v c -> switch name v |> Result.map (set c))

    let private hyper (c: RunConfig) = c.Hyperparameters

    /// Every field of a run in config.json's order, format first.
    let fields: RunField list =
        [ knob "format" (sprintf "the file's format, %s" format) (fun _ -> Text format) (fun v c ->
              match v with
              | Text f when f = format -> Ok c
              | other -> Error(sprintf "format must be '%s', got %s" format (describe other)))
          choiceField "agent" (agents |> List.map fst |> String.concat ", ") agents (fun c -> c.Agent) (fun c x -> { c with Agent = x })
          knob "env" "environment id (prunerl envs lists them)" (fun c -> Text c.Env) (fun v c ->
              match v with
              | Text s -> Ok { c with Env = s }
              | other -> Error(sprintf "env must be an environment id, got %s" (describe other)))
          choiceField "preset" "whose defaults: dopamine (Dopamine's gin files; MinAtar's default), minatar-reference (MinAtar's examples/dqn.py), zoo (tuned for CartPole or Pendulum), haarnoja (Haarnoja et al.'s SAC), rigl (SAC as the paper ran it; MuJoCo's default)" presets (fun c -> c.Preset) (fun c x -> { c with Preset = x })
          choiceField "network" "mlp, minatar, nature or impala" networks (fun c -> c.Network) (fun c x -> { c with Network = x })
          numberField "width" "width multiplier of the layers in width_scope" (fun c -> c.Width) (fun c x -> { c with Width = x })
          choiceField "width_scope" "layers the width scales: conv (the paper's: convolutions, and an MLP's hidden layers) or all (the dense layer after convolutions too, as labs/redo)" widthScopes (fun c -> c.WidthScope) (fun c x -> { c with WidthScope = x })
          choiceField "init" "how plain layers start: xavier-uniform (Dopamine's, zero biases) or torch-default" initializations (fun c -> c.Init) (fun c x -> { c with Init = x })
          numberField "sparsity" "final sparsity in [0, 1); 0 trains a dense network (the paper's 0.95)" (fun c -> c.Sparsity) (fun c x -> { c with Sparsity = x })
          choiceField "schedule" "ramp of the gradual schedule: polynomial or cosine" ramps (fun c -> c.Ramp) (fun c x -> { c with Ramp = x })
          numberField "power" "exponent of the polynomial ramp" (fun c -> c.Power) (fun c x -> { c with Power = x })
          numberField "prune_start" "pruning starts at this fraction of the gradient updates" (fun c -> c.PruneStart) (fun c x -> { c with PruneStart = x })
          numberField "prune_end" "pruning reaches the final sparsity at this fraction of the gradient updates" (fun c -> c.PruneEnd) (fun c x -> { c with PruneEnd = x })
          wholeField "prune_every" "gradient updates between mask updates" (fun c -> c.PruneEvery) (fun c x -> { c with PruneEvery = x })
          choiceField "distribution" "how sparsity spreads over layers: uniform or erk" distributions (fun c -> c.Distribution) (fun c x -> { c with Distribution = x })
          choiceField "layer_schedule" "per-layer targets over the ramp: scaled (JaxPruner: each layer's final target times the schedule's fraction) or resolved (the distribution solved at each step)" layerSchedules (fun c -> c.LayerSchedule) (fun c x -> { c with LayerSchedule = x })
          choiceField "baseline" "none, reset or redo (dense networks), wd (decoupled weight decay) or l2 (an L2 term in the loss)" baselines (fun c -> c.Baseline) (fun c x -> { c with Baseline = x })
          knob "baseline_period" "gradient updates between applications of the baseline: a whole number, or a fraction of the run's updates below 1 (Reset 100000, ReDo 200000 by default: for a run of U updates, the paper's 2.5M-update cadence is 0.04 and 0.08)"
              (fun c -> match c.BaselinePeriod with StepPoint.Absolute n -> Number(float n) | StepPoint.Fraction f -> Number f)
              (fun v c ->
                  number "baseline_period" v
                  |> Result.bind (fun x ->
                      if Double.IsFinite x && x > 0.0 && x < 1.0 then Ok(StepPoint.Fraction x)
                      elif Double.IsFinite x && x >= 1.0 && Math.Floor x = x && x <= float exactWhole then Ok(StepPoint.Absolute(int64 x))
                      else Error(sprintf "baseline_period must be a whole number of updates >= 1 or a fraction in (0, 1) of the run's updates, got %s" (show x)))
                  |> Result.map (fun p -> { c with BaselinePeriod = p }))
          numberField "redo_tau" "ReDo's dormancy threshold (the paper's best, 0.1)" (fun c -> c.RedoTau) (fun c x -> { c with RedoTau = x })
          numberField "weight_decay" "wd and l2 baselines: the coefficient lambda (1e-5, the paper's best weight decay)" (fun c -> c.WeightDecay) (fun c x -> { c with WeightDecay = x })
          intField "reset_layers" "Reset: how many last layers are renewed (1 or 2)" (fun c -> c.ResetLayers) (fun c x -> { c with ResetLayers = x })
          wholeField "steps" "agent steps" (fun c -> c.Steps) (fun c x -> { c with Steps = x })
          knob "replay_ratio" "gradient updates per agent step: 1, 2, ... or 1/k (0.25 and 1/4 alike)"
              (onAgent SacConfig.replayRatio replayRatio >> Number)
              (fun v c ->
                  replayRatioValue v
                  |> Result.bind replayRatioSchedule
                  |> Result.map (
                      setOnAgent
                          (fun a (period, perStep) -> { a with UpdatePeriod = period; UpdatesPerStep = perStep })
                          (fun a (period, perStep) -> { a with UpdatePeriod = period; UpdatesPerStep = perStep })
                          c))
          wholeField "seed" "seed of everything random in the run" (fun c -> c.Seed) (fun c x -> { c with Seed = x })
          choiceField "device" "auto, cpu or cuda" devices (fun c -> c.Device) (fun c x -> { c with Device = x })
          wholeField "eval_every" "agent steps between greedy evaluations (0: none)" (fun c -> c.EvalEvery) (fun c x -> { c with EvalEvery = x })
          intField "eval_episodes" "episodes per evaluation" (fun c -> c.EvalEpisodes) (fun c x -> { c with EvalEpisodes = x })
          wholeField "analyse_every" "agent steps between analyses of the network on fresh replay states (0: none)" (fun c -> c.AnalyseEvery) (fun c x -> { c with AnalyseEvery = x })
          intField "srank_states" "replay states the effective rank is measured on (2048, as coherence_compute.py)" (fun c -> c.SrankStates) (fun c x -> { c with SrankStates = x })
          intField "dormant_states" "replay states dormant neurons and Q statistics are measured on (256, labs/redo's batch_size_statistics)" (fun c -> c.DormantStates) (fun c x -> { c with DormantStates = x })
          wholeField "checkpoint_every" "agent steps between checkpoints (0: none)" (fun c -> c.CheckpointEvery) (fun c x -> { c with CheckpointEvery = x })
          knob "stop_at" "stop once an evaluation's mean return reaches this (null: run to the end)"
              (fun c -> match c.StopAt with Some x -> Number x | None -> Empty)
              (fun v c ->
                  match v with
                  | Empty
                  | Text "none" -> Ok { c with StopAt = None }
                  | v -> number "stop_at" v |> Result.map (fun x -> { c with StopAt = Some x }))
          numberField "gamma" "discount factor" (onAgent _.Gamma _.Gamma) (setOnAgent (fun a x -> { a with Gamma = x }) (fun a x -> { a with Gamma = x }))
          intField "n_step" "n of n-step returns" (hyper >> _.NStep) (fun c x -> { c with Hyperparameters.NStep = x })
          intField "batch_size" "transitions per gradient update" (onAgent _.BatchSize _.BatchSize)
              (setOnAgent (fun a x -> { a with BatchSize = x }) (fun a x -> { a with BatchSize = x }))
          intField "replay_capacity" "transitions the replay memory holds" (onAgent _.ReplayCapacity _.ReplayCapacity)
              (setOnAgent (fun a x -> { a with ReplayCapacity = x }) (fun a x -> { a with ReplayCapacity = x }))
          wholeField "min_replay" "agent steps before learning starts (SAC: of uniformly random actions)" (onAgent _.MinReplay _.MinReplay)
              (setOnAgent (fun a x -> { a with MinReplay = x }) (fun a x -> { a with MinReplay = x }))
          wholeField "target_update_period" "agent steps between target network copies" (hyper >> _.TargetUpdatePeriod) (fun c x -> { c with Hyperparameters.TargetUpdatePeriod = x })
          numberField "learning_rate" "the optimizer's learning rate" (hyper >> learningRate) (fun c x -> { c with Hyperparameters = withLearningRate x c.Hyperparameters })
          numberField "epsilon_train" "exploration at the end of its decay" (hyper >> _.EpsilonTrain) (fun c x -> { c with Hyperparameters.EpsilonTrain = x })
          wholeField "epsilon_decay_steps" "agent steps over which exploration falls from 1" (hyper >> _.EpsilonDecaySteps) (fun c x -> { c with Hyperparameters.EpsilonDecaySteps = x })
          numberField "epsilon_eval" "exploration while evaluating" (hyper >> _.EpsilonEval) (fun c x -> { c with Hyperparameters.EpsilonEval = x })
          choiceField "loss" "TD loss of expected values: squared (Dopamine's JAX DQN) or huber (MinAtar's reference DQN)" [ "squared", TdLoss.Squared; "huber", TdLoss.Huber ] (hyper >> _.Loss) (fun c x -> { c with Hyperparameters.Loss = x })
          switchField "double_q" "double Q-learning's target" (hyper >> _.DoubleQ) (fun c x -> { c with Hyperparameters.DoubleQ = x })
          switchField "dueling" "value and advantage streams" (hyper >> _.Dueling) (fun c x -> { c with Hyperparameters.Dueling = x })
          intField "atoms" "atoms of the C51 distribution (1: expected values)" (hyper >> _.Atoms) (fun c x -> { c with Hyperparameters.Atoms = x })
          numberField "v_min" "lower end of the C51 support" (hyper >> _.VMin) (fun c x -> { c with Hyperparameters.VMin = x })
          numberField "v_max" "upper end of the C51 support" (hyper >> _.VMax) (fun c x -> { c with Hyperparameters.VMax = x })
          choiceField "priority_sampling" "prioritized replay's draw: iid (Dopamine's JAX sampler) or stratified (Schaul et al.)" [ "iid", PrioritySampling.Independent; "stratified", PrioritySampling.Stratified ] (hyper >> _.PrioritySampling) (fun c x -> { c with Hyperparameters.PrioritySampling = x })
          switchField "noisy" "noisy nets: noise on every fully connected layer, redrawn every forward pass (training epsilon 0)" (hyper >> _.Noisy) (fun c x -> { c with Hyperparameters.Noisy = x })
          numberField "noisy_sigma0" "noisy nets: initial noise scale, sigma = sigma0 / sqrt(inputs) (Dopamine 0.1; Fortunato et al. 0.5)" (hyper >> _.NoisySigma0) (fun c x -> { c with Hyperparameters.NoisySigma0 = x })
          switchField "augmentation" "DrQ's random shift and intensity noise on replayed image observations" (hyper >> _.Augment) (fun c x -> { c with Hyperparameters.Augment = x })
          intField "shift_padding" "pixels of replicate padding of the random shift (4 on 84x84 frames, 1 on MinAtar)" (hyper >> _.ShiftPadding) (fun c x -> { c with Hyperparameters.ShiftPadding = x })
          numberField "intensity_scale" "scale of the augmentation's intensity noise (0: none)" (hyper >> _.IntensityScale) (fun c x -> { c with Hyperparameters.IntensityScale = x })
          numberField "tau" "SAC: target smoothing, target <- tau online + (1 - tau) target after each update" (_.Sac.Tau) (fun c x -> { c with Sac.Tau = x })
          numberField "actor_learning_rate" "SAC: Adam's learning rate for the actor" (_.Sac.ActorLearningRate) (fun c x -> { c with Sac.ActorLearningRate = x })
          numberField "critic_learning_rate" "SAC: Adam's learning rate for both critics" (_.Sac.CriticLearningRate) (fun c x -> { c with Sac.CriticLearningRate = x })
          numberField "alpha_learning_rate" "SAC: Adam's learning rate for the entropy temperature" (_.Sac.AlphaLearningRate) (fun c x -> { c with Sac.AlphaLearningRate = x })
          numberField "initial_alpha" "SAC: the entropy temperature at the start" (_.Sac.InitialAlpha) (fun c x -> { c with Sac.InitialAlpha = x })
          numberField "target_entropy" "SAC: target entropy per action dimension (-1: Haarnoja et al.'s -|A|; -0.5: TF-Agents' -|A|/2, the rigl preset's)" (_.Sac.TargetEntropyPerDimension) (fun c x -> { c with Sac.TargetEntropyPerDimension = x })
          numberField "reward_scale" "SAC: rewards are multiplied by this in the critics' targets (rigl preset 0.1)" (_.Sac.RewardScale) (fun c x -> { c with Sac.RewardScale = x })
          numberField "kernel_l2" "SAC: L2 term lambda * sum w^2 over the actor's and critics' kernels (rigl preset 1e-4)" (_.Sac.KernelL2) (fun c x -> { c with Sac.KernelL2 = x })
          knob "dataset" "offline agents: the dataset file to learn from (a run's dataset.prlds)"
              (fun c -> match c.Dataset with Some path -> Text path | None -> Empty)
              (fun v c ->
                  match v with
                  | Empty -> Ok { c with Dataset = None }
                  | Text path when path.Trim() <> "" -> Ok { c with Dataset = Some path }
                  | other -> Error(sprintf "dataset must be the path of a dataset file, got %s" (describe other)))
          numberField "conservative_weight" "offline agents: CQL's weight alpha (0: plain offline DQN or C51)" _.ConservativeWeight (fun c x -> { c with ConservativeWeight = x })
          switchField "record_dataset" "online DQN family: write the run's experience to dataset.prlds in its folder" _.RecordDataset (fun c x -> { c with RecordDataset = x }) ]

    /// The names of every field, in order.
    let fieldNames: string list = fields |> List.map _.Name

    /// The field of a name; an error naming the unknown key and listing the known ones.
    let field (name: string) : Result<RunField, string> =
        match fields |> List.tryFind (fun f -> f.Name = name) with
        | Some f -> Ok f
        | None -> Error(sprintf "unknown field '%s'; the fields are %s" name (String.concat ", " fieldNames))

    /// Whether an environment id belongs to MinAtar (its games take the MinAtar presets).
    let isMinAtar (env: string) = env.StartsWith("minatar/", StringComparison.Ordinal)

    /// Whether a field applies to an agent: SAC's own fields (tau, its three learning rates,
    /// initial_alpha, target_entropy) to SAC only; the DQN family's (n_step, target_update_period,
    /// learning_rate, epsilon_eval, double_q, dueling, the C51 support, the baselines and analyses) to every
    /// agent but SAC; exploration while training and record_dataset to the online DQN family;
    /// replay_ratio, replay_capacity and min_replay to online agents (an offline run takes one update per
    /// step from its whole dataset); dataset and conservative_weight to offline agents; the rest to all.
    let appliesTo (agent: AgentKind) (name: string) : bool =
        let sac = agent = AgentKind.Sac
        match name with
        | "tau" | "actor_learning_rate" | "critic_learning_rate" | "alpha_learning_rate" | "initial_alpha" | "target_entropy" | "reward_scale" | "kernel_l2" -> sac
        | "dataset" | "conservative_weight" -> isOffline agent
        | "epsilon_train" | "epsilon_decay_steps" | "record_dataset" -> not sac && not (isOffline agent)
        | "replay_ratio" | "replay_capacity" | "min_replay" -> not (isOffline agent)
        | "baseline" | "baseline_period" | "redo_tau" | "weight_decay" | "reset_layers" | "analyse_every" | "srank_states" | "dormant_states" | "init" | "n_step" | "target_update_period"
        | "learning_rate" | "loss" | "epsilon_eval" | "double_q" | "dueling" | "atoms" | "v_min" | "v_max" | "priority_sampling"
        | "noisy" | "noisy_sigma0" | "augmentation" | "shift_padding" | "intensity_scale" -> not sac
        | _ -> true

    /// An error naming the first field that does not apply to the agent, and the agents it applies to.
    let private checkApplies (agent: AgentKind) (names: string list) : Result<unit, string> =
        match names |> List.tryFind (fun name -> not (appliesTo agent name)) with
        | Some name ->
            let those = agents |> List.filter (fun (_, a) -> appliesTo a name) |> List.map fst |> String.concat ", "
            Error(sprintf "%s does not apply to agent %s (only to %s); leave it out" name (nameIn agents agent) those)
        | None -> Ok()

    /// The preset a run takes unless it names one: Dopamine's for the DQN family on MinAtar and for DER
    /// and DrQ(eps) everywhere (the paper's protocol); on classic control the Zoo's tuned CartPole DQN (the
    /// base of DQN, Rainbow, CQL and CQL+C51 there) and Pendulum's SAC; Haarnoja et al.'s SAC on MuJoCo.
    let defaultPreset (env: string) (agent: AgentKind) : PresetKind =
        match agent with
        | AgentKind.Der
        | AgentKind.Drq -> PresetKind.Dopamine
        | AgentKind.Sac -> if env = "pendulum" then PresetKind.Zoo else PresetKind.RigL
        | _ -> if isMinAtar env then PresetKind.Dopamine else PresetKind.Zoo

    /// The presets an agent can take on an environment: the DQN family's dopamine and minatar-reference on
    /// MinAtar, zoo on classic control; DER and DrQ(eps) dopamine; SAC haarnoja and rigl everywhere and zoo on Pendulum.
    let presetsFor (env: string) (agent: AgentKind) : PresetKind list =
        match agent with
        | AgentKind.Der
        | AgentKind.Drq -> [ PresetKind.Dopamine ]
        | AgentKind.Sac -> if env = "pendulum" then [ PresetKind.Zoo; PresetKind.Haarnoja; PresetKind.RigL ] else [ PresetKind.RigL; PresetKind.Haarnoja ]
        | _ -> if isMinAtar env then [ PresetKind.Dopamine; PresetKind.MinAtarReference ] else [ PresetKind.Zoo ]

    /// The gradient updates between a baseline's applications unless a run says: Reset of the last layer
    /// every 100,000 updates (the paper's Appendix G, "every 100k gradient updates"; 250k was slightly
    /// better), ReDo every 200,000 (dopamine/labs/redo/weight_recyclers.py, BaseRecycler's reset_period =
    /// 200_000), and 100,000 for the others (unused: weight decay and L2 act at every update). Runs much shorter than the paper's 2.5M updates give the
    /// period as a fraction of their updates (0.04 and 0.08 keep the paper's cadence).
    let defaultBaselinePeriod (baseline: BaselineKind) : StepPoint =
        match baseline with
        | BaselineKind.Redo -> StepPoint.Absolute 200_000L
        | BaselineKind.Reset
        | BaselineKind.NoBaseline
        | BaselineKind.WeightDecay
        | BaselineKind.L2 -> StepPoint.Absolute 100_000L

    /// The run a field list starts from before its fields are set, for an environment, agent, preset and baseline.
    /// The DQN family online: MinAtar: the preset's DQN (Dopamine's MinAtar DQN by default) and the MinAtar
    /// network at width 1, 1M steps, evaluations of 10 episodes every 10k with the network analysed at each,
    /// checkpoints every 50k.
    /// Classic control: the CartPole DQN and a 128-128 MLP at width 2, 30k steps, evaluations of 5
    /// episodes every 2500, no analyses (each costs about as much as a thousand steps there), checkpoints
    /// every 10k. Both: pruned to 95% (the paper's main level, "we primarily focus on this sparsity level")
    /// with ERK on the paper's cubic schedule (20% to 80% of the updates, masks every 1000 updates, every
    /// layer's final target scaled by the schedule as JaxPruner), the width scaling the convolutions (the
    /// paper's scope), seed 0, no baseline (period defaultBaselinePeriod; ReDo tau 0.1, the paper's best in
    /// Appendix G; Reset of the last layer). Rainbow: Dopamine's MinAtar Rainbow (51 atoms on [-100, 100],
    /// 3-step, prioritized) on MinAtar; on classic control C51 on [-100, 100] (returns reach 1 / (1 - gamma)
    /// = 100), 3-step returns and prioritized replay, without double Q. The minatar-reference preset's Rainbow
    /// is the reference DQN with the same C51 support, 3-step returns and prioritized replay.
    /// Initialisation: Xavier-uniform with the dopamine preset, PyTorch's default with the others.
    /// Analyses: srank on 2048 replay states (coherence_compute.py's), dormant neurons and Q statistics on 256
    /// (labs/redo's batch_size_statistics), drawn afresh at every analysis.
    /// DER and DrQ(epsilon) take their Atari 100k presets (AgentConfig.der, AgentConfig.drqEpsilon) with
    /// the 100k-interaction budget on MinAtar: 100k steps, evaluations and analyses every 10k (Dopamine's
    /// 10 iterations of 10k steps), checkpoints every 10k, a replay memory of 100k (holding every step,
    /// as the gin's 1M stands for unbounded memory) and the random shift's padding scaled to 10x10 frames
    /// (1 pixel; AgentConfig.proportionalShiftPadding). DER's support is [-100, 100] (the MinAtar Rainbow
    /// gin's; DER.gin's [-10, 10] is for Atari's clipped rewards). On classic control they keep its run
    /// lengths; DrQ's augmentation needs image observations there (validate says so).
    /// Offline (a step is a gradient update): with the dopamine preset (MinAtar), the paper's Table 3
    /// (AgentConfig.paperCql, AgentConfig.paperCqlC51 on Rainbow's support), both with CQL coefficient 0.1
    /// (ConservativeWeight.paper). With the others (AgentConfig.offlineClock of the family's DQN): CQL with
    /// ConservativeWeight.dqn (1.0, the CQL reference's); CQL+C51 adds C51 over 51 atoms on Rainbow's support,
    /// 1-step returns and double Q, weight ConservativeWeight.c51. Steps, evaluations and checkpoints as online.
    /// SAC: Pendulum takes SacConfig.pendulum (zoo) and 20k steps (evaluations of 5 episodes every 2000,
    /// checkpoints every 10k), the MuJoCo tasks SacConfig.haarnoja and 1M steps (10 episodes every 10k,
    /// checkpoints every 50k); 256-256 MLPs at width 1 (Haarnoja et al.'s), pruned as above, actor and
    /// critics alike, no analyses.
    let defaultsOf (env: string) (agent: AgentKind) (preset: PresetKind) (baseline: BaselineKind) : RunConfig =
        let minatar = isMinAtar env
        let sac = agent = AgentKind.Sac
        let dqn =
            match preset with
            | PresetKind.Dopamine when minatar -> AgentConfig.dopamineMinatarDqn
            | PresetKind.MinAtarReference -> AgentConfig.minatarDqn
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
            | AgentKind.CqlC51 when preset = PresetKind.Dopamine -> AgentConfig.paperCqlC51 rainbow.VMin rainbow.VMax
            | AgentKind.Cql -> AgentConfig.offlineClock dqn
            | AgentKind.CqlC51 -> AgentConfig.offlineClock { c51 with VMin = rainbow.VMin; VMax = rainbow.VMax }
            | AgentKind.Dqn
            | AgentKind.Sac -> dqn
        let budget = agent = AgentKind.Der || agent = AgentKind.Drq
        let pendulum = env = "pendulum"
        let evalEvery =
            if sac then (if pendulum then 2000L else 10_000L)
            elif minatar then 10_000L
            else 2500L
        { Agent = agent
          Env = env
          Preset = preset
          Network = if minatar && not sac then NetworkKind.MinAtar else NetworkKind.Mlp
          Width = if preset = PresetKind.RigL && not pendulum then 5.0 elif minatar || sac then 1.0 else 2.0
          WidthScope = WidthScope.Conv
          Init = if preset = PresetKind.Dopamine || preset = PresetKind.RigL then Initialization.XavierUniform else Initialization.TorchDefault
          Sparsity = 0.95
          Ramp = RampKind.Polynomial
          Power = 3.0
          PruneStart = 0.2
          PruneEnd = 0.8
          PruneEvery = 1000L
          Distribution = DistributionKind.Erk
          LayerSchedule = ScaledFinal
          Baseline = baseline
          BaselinePeriod = defaultBaselinePeriod baseline
          RedoTau = 0.1
          WeightDecay = 1e-5
          ResetLayers = 1
          Steps =
            if sac then (if pendulum then 20_000L else 1_000_000L)
            elif minatar then (if budget then 100_000L else 1_000_000L)
            else 30_000L
          Seed = 0L
          Device = DeviceKind.Auto
          EvalEvery = evalEvery
          EvalEpisodes = if minatar || (sac && not pendulum) then 10 else 5
          AnalyseEvery = if minatar && not sac then evalEvery else 0L
          SrankStates = 2048
          DormantStates = 256
          CheckpointEvery = if (minatar && not budget) || (sac && not pendulum) then 50_000L else 10_000L
          StopAt = None
          Hyperparameters = hyperparameters
          Sac =
            match preset with
            | PresetKind.Zoo -> SacConfig.pendulum
            | PresetKind.RigL -> SacConfig.rigl
            | _ -> SacConfig.haarnoja
          Dataset = None
          ConservativeWeight = if preset = PresetKind.Dopamine || agent = AgentKind.CqlC51 then ConservativeWeight.paper else ConservativeWeight.dqn
          RecordDataset = false }

    /// The run a field list starts from for an environment and agent: its default preset, no baseline (defaultsOf).
    let defaults (env: string) (agent: AgentKind) : RunConfig = defaultsOf env agent (defaultPreset env agent) BaselineKind.NoBaseline

    /// The config's fields that apply to its agent (appliesTo) as name and value, in config.json's order.
    let toFields (c: RunConfig) : (string * FieldValue) list =
        fields |> List.filter (fun f -> appliesTo c.Agent f.Name) |> List.map (fun f -> f.Name, f.Read c)

    /// The config with the fields set in order (a later value of a field wins); the first bad key or
    /// value is the error.
    let apply (values: (string * FieldValue) list) (c: RunConfig) : Result<RunConfig, string> =
        values |> List.fold (fun acc (name, value) -> acc |> Result.bind (fun c -> field name |> Result.bind (fun f -> f.Write value c))) (Ok c)

    /// The gradual schedule a pruned run follows, as the training loop takes it (steps as fractions
    /// of the gradient updates, Zhu and Gupta's counting); None for a dense run.
    let pruning (c: RunConfig) : GradualSpec option =
        if c.Sparsity = 0.0 then None
        else
            Some
                { InitialSparsity = 0.0
                  FinalSparsity = c.Sparsity
                  Shape =
                    match c.Ramp with
                    | RampKind.Polynomial -> Polynomial c.Power
                    | RampKind.Cosine -> Cosine
                  PruneStart = StepPoint.Fraction c.PruneStart
                  PruneEnd = StepPoint.Fraction c.PruneEnd
                  PruneEvery = c.PruneEvery
                  Counting = ZhuGupta }

    /// The learning clock of the run's agent: the DQN family's hyperparameters, or for SAC the same with
    /// SAC's warm-up, update period and updates per step (the fields the clock reads).
    let private clock (c: RunConfig) : AgentConfig =
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
    let runReplayRatio (c: RunConfig) : float = replayRatio (clock c)

    /// The pruning schedule resolved over the run's gradient updates (at least 1); None for a dense run.
    let schedule (c: RunConfig) : Result<Schedule option, string> =
        match pruning c with
        | None -> Ok None
        | Some spec -> Schedule.gradual (max 1L (gradientUpdates c)) spec |> Result.map Some

    /// The smallest frame (height and width) a convolutional network takes: the MinAtar network's
    /// unpadded 3x3 convolution needs 3; the Nature network's 8/4, 4/2 and 3/1 convolutions need
    /// (3 - 1) * 2 + 4 = 8 after the first, (8 - 1) * 4 + 8 = 36 before it; the Impala ResNet pads.
    let private smallestFrame (network: NetworkKind) =
        match network with
        | NetworkKind.Mlp -> 1
        | NetworkKind.MinAtar -> 3
        | NetworkKind.Nature -> 36
        | NetworkKind.Impala -> 1

    let private checkNetwork (c: RunConfig) (env: EnvironmentInfo) =
        let name = nameIn networks c.Network
        let shape = "[" + (env.ObservationShape |> List.map string |> String.concat ", ") + "]"
        match c.Network, env.ObservationShape with
        | NetworkKind.Mlp, _ -> Ok()
        | _, [ _; h; w ] when min h w >= smallestFrame c.Network -> Ok()
        | _, [ _; _; _ ] ->
            Error(sprintf "network %s needs frames of at least %dx%d, env %s gives %s; use minatar, impala or mlp" name (smallestFrame c.Network) (smallestFrame c.Network) env.Id shape)
        | _ ->
            Error(sprintf "network %s needs [channels, height, width] observations, env %s gives %s; use mlp" name env.Id shape)

    /// Checks every field's range and the fields against each other: a known environment with discrete
    /// actions for the DQN family (online and offline) and continuous ones for SAC, a network that takes
    /// its observations (SAC: mlp), width > 0, sparsity in [0, 1), power > 0, 0 &lt;= prune_start &lt;
    /// prune_end &lt;= 1, prune_every >= 1, a baseline only on a dense network (not
    /// pruned), augmentation only of image observations, steps > min_replay (so the
    /// agent learns), seed >= 0, counts >= 0, the agent's hyperparameters (AgentConfig.validate or
    /// SacConfig.validate), a dataset for an offline agent and conservative_weight >= 0. Whether the
    /// dataset file exists and matches the environment is for the caller, who can read it. The first
    /// failure names the field and what is allowed.
    let validate (environments: EnvironmentInfo list) (c: RunConfig) : Result<RunConfig, string> =
        result {
            let! env =
                match environments |> List.tryFind (fun e -> e.Id = c.Env) with
                | Some e -> Ok e
                | None -> Error(sprintf "env must be one of %s, got '%s'" (environments |> List.map _.Id |> String.concat ", ") c.Env)
            do!
                match env.Unavailable with
                | Some reason -> Error(sprintf "env %s cannot run here: %s" c.Env reason)
                | None -> Ok()
            let agent = nameIn agents c.Agent
            do!
                let discrete = not (isSac c)
                let kind isDiscrete = if isDiscrete then "discrete" else "continuous"
                if env.DiscreteActions = discrete then Ok()
                else
                    let those = environments |> List.filter (fun e -> e.DiscreteActions = discrete && e.Unavailable.IsNone) |> List.map _.Id |> String.concat ", "
                    Error(sprintf "env must have %s actions for agent %s (one of %s), got '%s', whose actions are %s" (kind discrete) agent those c.Env (kind env.DiscreteActions))
            do!
                if isSac c && c.Network <> NetworkKind.Mlp then
                    Error(sprintf "network must be mlp for agent sac (its actor and critics are MLPs), got '%s'" (nameIn networks c.Network))
                else Ok()
            do! checkNetwork c env
            do!
                match c.Hyperparameters.Augment, env.ObservationShape with
                | false, _
                | true, [ _; _; _ ] -> Ok()
                | true, shape ->
                    Error(sprintf "augmentation shifts image observations ([channels, height, width]); env %s gives [%s]: set augmentation false" env.Id (shape |> List.map string |> String.concat ", "))
            do!
                let allowed = presetsFor c.Env c.Agent
                if List.contains c.Preset allowed then Ok()
                else
                    Error(sprintf "preset %s does not apply to agent %s on %s (it takes %s)" (nameIn presets c.Preset) agent c.Env
                              (allowed |> List.map (nameIn presets) |> String.concat ", "))
            do!
                if c.SrankStates >= 1 && c.SrankStates <= 65_536 then Ok()
                else Error(sprintf "srank_states must be a whole number in [1, 65536], got %d" c.SrankStates)
            do!
                if c.DormantStates >= 1 && c.DormantStates <= 65_536 then Ok()
                else Error(sprintf "dormant_states must be a whole number in [1, 65536], got %d" c.DormantStates)
            do! positive "width" c.Width |> Result.map ignore
            do! inHalfOpen "sparsity" 0.0 1.0 c.Sparsity |> Result.map ignore
            do! positive "power" c.Power |> Result.map ignore
            do! inClosed "prune_start" 0.0 1.0 c.PruneStart |> Result.map ignore
            do! inClosed "prune_end" 0.0 1.0 c.PruneEnd |> Result.map ignore
            do!
                if c.PruneEnd > c.PruneStart then Ok()
                else Error(sprintf "prune_end must be > prune_start (%s), got %s" (show c.PruneStart) (show c.PruneEnd))
            do! atLeast "prune_every" 1L c.PruneEvery |> Result.map ignore
            do!
                if (c.Baseline <> BaselineKind.Reset && c.Baseline <> BaselineKind.Redo) || c.Sparsity = 0.0 then Ok()
                else Error(sprintf "baseline must be none, wd or l2 for a pruned network (reset and redo renew dense networks: set sparsity 0), got '%s'" (nameIn baselines c.Baseline))
            do!
                if Double.IsFinite c.WeightDecay && c.WeightDecay >= 0.0 && c.WeightDecay < 1.0 then Ok()
                else Error(sprintf "weight_decay must be in [0, 1), got %s" (show c.WeightDecay))
            do!
                match c.BaselinePeriod with
                | StepPoint.Absolute n when n < 1L -> Error(sprintf "baseline_period must be >= 1, got %d" n)
                | StepPoint.Fraction f when not (f > 0.0 && f < 1.0) -> Error(sprintf "baseline_period as a fraction must be in (0, 1), got %s" (show f))
                | _ -> Ok()
            do! inClosed "redo_tau" 0.0 1.0 c.RedoTau |> Result.map ignore
            do! if c.ResetLayers = 1 || c.ResetLayers = 2 then Ok() else Error(sprintf "reset_layers must be 1 or 2, got %d" c.ResetLayers)
            do! atLeast "steps" 1L c.Steps |> Result.map ignore
            do! atLeast "seed" 0L c.Seed |> Result.map ignore
            do! atLeast "eval_every" 0L c.EvalEvery |> Result.map ignore
            do! atLeast "eval_episodes" 1L (int64 c.EvalEpisodes) |> Result.map ignore
            do! atLeast "analyse_every" 0L c.AnalyseEvery |> Result.map ignore
            do! atLeast "checkpoint_every" 0L c.CheckpointEvery |> Result.map ignore
            do!
                match c.StopAt with
                | Some x when not (Double.IsFinite x) -> Error(sprintf "stop_at must be a finite number or null, got %s" (show x))
                | _ -> Ok()
            do!
                if isSac c then SacConfig.validate c.Sac |> Result.map ignore
                else AgentConfig.validate c.Hyperparameters |> Result.map ignore
            do! replayRatioSchedule (runReplayRatio c) |> Result.map ignore
            do!
                let warmUp = (clock c).MinReplay
                if c.Steps > warmUp then Ok()
                else Error(sprintf "steps must be > min_replay (%d) so that the agent learns, got %d" warmUp c.Steps)
            do!
                match c.Dataset with
                | None when isOffline c.Agent ->
                    Error(sprintf "dataset must name the dataset file agent %s learns from (a run trained with record_dataset true writes one)" agent)
                | _ -> Ok()
            do!
                if Double.IsFinite c.ConservativeWeight && c.ConservativeWeight >= 0.0 then Ok()
                else Error(sprintf "conservative_weight must be a finite number >= 0, got %s" (show c.ConservativeWeight))
            let! _ = schedule c
            return c
        }

    /// A run from field values as a file and flags give them, applied in order over the defaults of
    /// the environment, agent, preset and baseline they name (dqn when they name none; cartpole when they
    /// name no env, pendulum for sac; the agent's default preset; no baseline), then validated.
    let resolve (environments: EnvironmentInfo list) (values: (string * FieldValue) list) : Result<RunConfig, string> =
        let last name = values |> List.rev |> List.tryFind (fun (n, _) -> n = name) |> Option.map snd
        result {
            let! agent =
                match last "agent" with
                | Some v -> choice "agent" agents v
                | None -> Ok AgentKind.Dqn
            let env =
                match last "env" with
                | Some(Text s) -> s
                | _ -> if agent = AgentKind.Sac then "pendulum" else "cartpole"
            let! preset =
                match last "preset" with
                | Some v -> choice "preset" presets v
                | None -> Ok(defaultPreset env agent)
            let! baseline =
                match last "baseline" with
                | Some v -> choice "baseline" baselines v
                | None -> Ok BaselineKind.NoBaseline
            do! checkApplies agent (values |> List.map fst)
            let! config = apply values (defaultsOf env agent preset baseline)
            return! validate environments config
        }

    /// Whether asked-for values agree with a run's config (device excepted: a resumed run may move);
    /// the first that does not is the error, naming the field, the run's value and the asked-for one.
    let agrees (run: RunConfig) (values: (string * FieldValue) list) : Result<unit, string> =
        values
        |> traverse (fun (name, value) ->
            if name = "device" then Ok()
            else
                result {
                    do! checkApplies run.Agent [ name ]
                    let! f = field name
                    let! changed = f.Write value run
                    return!
                        if changed = run then Ok()
                        else Error(sprintf "%s: the run holds %s, asked for %s; a resumed run keeps its configuration" name (describe (f.Read run)) (describe value))
                })
        |> Result.map ignore

    /// A value as it appears in a run's folder name: numbers in their shortest exact form, text with
    /// every character other than letters, digits, '.' and '-' as '-'.
    let nameValue (value: FieldValue) : string =
        match value with
        | Text s -> String(s.ToCharArray() |> Array.map (fun ch -> if Char.IsAsciiLetterOrDigit ch || ch = '.' || ch = '-' then ch else '-'))
        | Number x -> show x
        | Switch b -> if b then "true" else "false"
        | Empty -> "none"

    /// A run's folder name in a sweep: environment, width, sparsity, baseline and seed, as in
    /// "minatar-breakout_w4_s0.9_none_seed1", then "_field-value" for every other field in `varying`
    /// (the fields the sweep varies), in config order. Different values of a field give different names.
    let runName (varying: string list) (c: RunConfig) : string =
        let value name = (fields |> List.find (fun f -> f.Name = name)).Read c |> nameValue
        let standard = [ "env"; "width"; "sparsity"; "baseline"; "seed" ]
        let extra =
            fieldNames
            |> List.filter (fun n -> List.contains n varying && not (List.contains n standard))
            |> List.map (fun n -> sprintf "_%s-%s" n (value n))
        sprintf "%s_w%s_s%s_%s_seed%s" (value "env") (value "width") (value "sparsity") (value "baseline") (value "seed")
        + String.concat "" extra

/// A grid of runs: every combination of the values listed per field; a sweep: the union of grids.
[<RequireQualifiedAccess>]
module Sweep =

    /// The grid's points, one field list per combination of the axes' values, the first axis varying
    /// slowest. Every axis lists at least one value and no value twice; a field named twice is refused.
    let expand (axes: (string * FieldValue list) list) : Result<(string * FieldValue) list list, string> =
        result {
            do!
                match axes |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1) with
                | Some(name, _) -> Error(sprintf "%s is given twice" name)
                | None -> Ok()
            let! _ =
                axes
                |> traverse (fun (name, values) ->
                    match values, values |> List.countBy id |> List.tryFind (fun (_, n) -> n > 1) with
                    | [], _ -> Error(sprintf "%s lists no values" name)
                    | _, Some(v, _) -> Error(sprintf "%s lists %s twice" name (RunConfig.describe v))
                    | _ -> Ok())
            return
                List.foldBack
                    (fun (name, values) points -> [ for v in values do for rest in points -> (name, v) :: rest ])
                    axes
                    [ [] ]
        }

    /// The fields a grid varies: those listing more than one value.
    let varying (axes: (string * FieldValue list) list) : string list =
        axes |> List.filter (fun (_, values) -> List.length values > 1) |> List.map fst

    /// Every point of a grid resolved and validated, with its folder name: the run's values of the fields in
    /// `varies` that apply to its agent; the first bad point is the error, naming the point by those fields.
    let private resolveGrid (environments: EnvironmentInfo list) (varies: string list) (axes: (string * FieldValue list) list) : Result<(string * RunConfig) list, string> =
        result {
            let! points = expand axes
            return!
                points
                |> traverse (fun point ->
                    RunConfig.resolve environments point
                    |> Result.map (fun c -> RunConfig.runName (varies |> List.filter (RunConfig.appliesTo c.Agent)) c, c)
                    |> Result.mapError (fun e ->
                        let where = point |> List.filter (fun (n, _) -> List.contains n varies) |> List.map (fun (n, v) -> sprintf "%s %s" n (RunConfig.describe v))
                        if where.IsEmpty then e else sprintf "%s (at %s)" e (String.concat ", " where)))
        }

    /// Every run of a grid with its folder name, each point resolved and validated (a field every run
    /// shares is an axis of one value); the first bad point is the error, and two points may not share
    /// a name.
    let plan (environments: EnvironmentInfo list) (axes: (string * FieldValue list) list) : Result<(string * RunConfig) list, string> =
        result {
            let! runs = resolveGrid environments (varying axes) axes
            do!
                match runs |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1) with
                | Some(name, _) -> Error(sprintf "two runs of the grid would share the folder %s: give values that differ in their letters and digits" name)
                | None -> Ok()
            return runs
        }

    /// A grid's axes over the shared ones: the grid's fields in its order (a grid's field replaces the
    /// shared field of that name), then the shared fields the grid does not give.
    let private over (shared: (string * FieldValue list) list) (grid: (string * FieldValue list) list) =
        grid @ (shared |> List.filter (fun (name, _) -> not (List.exists (fst >> (=) name) grid)))

    /// The fields a union of grids varies: those some grid lists more than one value of, or that the
    /// grids give differently (a grid that does not give a field differs from one that does). For one
    /// grid this is `varying`.
    let private varyingOver (grids: (string * FieldValue list) list list) : string list =
        let names = grids |> List.collect (List.map fst) |> List.distinct
        let given name = grids |> List.map (List.tryFind (fst >> (=) name) >> Option.map snd)
        names |> List.filter (fun name -> (given name |> List.distinct |> List.length > 1) || List.contains name (grids |> List.collect varying))

    /// Every run of a union of grids with its folder name, in grid order: each grid crossed with the
    /// shared axes (a grid's field replaces a shared one of the same name), every point resolved and
    /// validated before any run starts. One grid is exactly `plan` of its axes over the shared ones.
    /// With several, names carry every field the union varies (the agent when the grids' agents differ)
    /// that applies to the run's agent; the first bad point is the error, naming its grid (from 1) and the
    /// point; the same run given twice, or two runs that would share a folder, are refused.
    let planGrids (environments: EnvironmentInfo list) (shared: (string * FieldValue list) list) (grids: (string * FieldValue list) list list) : Result<(string * RunConfig) list, string> =
        match grids |> List.map (over shared) with
        | [] -> Error "grids lists no grids: give at least one object of run fields"
        | [ axes ] -> plan environments axes
        | merged ->
            result {
                let varies = varyingOver merged
                let! runs =
                    merged
                    |> List.indexed
                    |> traverse (fun (index, axes) ->
                        resolveGrid environments varies axes
                        |> Result.map (List.map (fun (name, c) -> index + 1, name, c))
                        |> Result.mapError (sprintf "grid %d: %s" (index + 1)))
                let runs = List.concat runs
                do!
                    match runs |> List.countBy (fun (_, _, c) -> c) |> List.tryFind (fun (_, n) -> n > 1) with
                    | Some(config, _) ->
                        let twice = runs |> List.filter (fun (_, _, c) -> c = config)
                        let (first, name, _), (second, _, _) = twice[0], twice[1]
                        if first = second then Error(sprintf "grid %d gives the run %s twice" first name)
                        else Error(sprintf "grid %d gives the run %s that grid %d gives already: leave it out of one" second name first)
                    | None -> Ok()
                do!
                    match runs |> List.countBy (fun (_, name, _) -> name) |> List.tryFind (fun (_, n) -> n > 1) with
                    | Some(name, _) ->
                        match runs |> List.filter (fun (_, n, _) -> n = name) |> List.map (fun (g, _, _) -> g) with
                        | first :: second :: _ when first <> second ->
                            Error(sprintf "a run of grid %d and one of grid %d would share the folder %s: give values that differ in their letters and digits" first second name)
                        | grid :: _ -> Error(sprintf "two runs of grid %d would share the folder %s: give values that differ in their letters and digits" grid name)
                        | [] -> Ok()
                    | None -> Ok()
                return runs |> List.map (fun (_, name, c) -> name, c)
            }
