namespace Prunerl.Experiments

open System
open System.Globalization
open Prunerl.Core
open Prunerl.Core.Validate

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
/// set it from a value. Setting parses the value; RunValidation.validate checks ranges.
type RunField =
    { /// The field's name in config.json (the flag is --name with '-' for '_').
      Name: string
      /// What it is, for help texts.
      Help: string
      /// The field's value in a config.
      Read: RunConfig -> FieldValue
      /// The config with the field set to a value; an error naming the field when the value has the wrong kind.
      Write: FieldValue -> RunConfig -> Result<RunConfig, string>
      /// Whether the field holds a number: a config file gives it as a JSON number (a JSON string there is
      /// refused naming the field), while the command line's text ("3000" of --steps or --set) is parsed.
      Numeric: bool }

/// The field registry: every knob of a run by its config.json name, how to read it off a config, parse
/// and set it, and which agents it applies to.
[<RequireQualifiedAccess>]
module RunFields =

    /// The format tag written first in every config.json.
    let format = RunFormat.ConfigFormat

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

    /// A count as a file or a flag gives it: a number ("100000", "1e5", 100000) or text with a suffix k
    /// (thousand) or M (million, also m): "100k", "2.5M". The suffixed number is read as a decimal, so
    /// "0.1k" is exactly 100.
    let count (field: string) (value: FieldValue) : Result<float, string> =
        match value with
        | Text s when s.Trim().Length > 1 && "kKmM".Contains(s.Trim()[s.Trim().Length - 1]) ->
            let text = s.Trim()
            let scale = if Char.ToLowerInvariant text[text.Length - 1] = 'k' then 1_000m else 1_000_000m
            match Decimal.TryParse(text.Substring(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, x when abs x < 1e15m -> Ok(float (x * scale))
            | _ -> Error(sprintf "%s must be a number (100000, 1e5, 100k, 1M), got '%s'" field s)
        | _ -> number field value

    let private whole (field: string) (lo: int64) (hi: int64) (value: FieldValue) : Result<int64, string> =
        count field value
        |> Result.bind (fun x ->
            if Double.IsFinite x && Math.Floor x = x && x >= float lo && x <= float hi then Ok(int64 x)
            elif Double.IsFinite x && Math.Floor x = x && x < float lo then Error(sprintf "%s must be >= %d, got %s" field lo (show x))
            else Error(sprintf "%s must be a whole number in [%d, %d], got %s" field lo hi (show x)))

    /// A choice by its name among (name, value) pairs; an error listing the names.
    let choice (field: string) (choices: (string * 'a) list) (value: FieldValue) : Result<'a, string> =
        let allowed () = choices |> List.map fst |> String.concat ", "
        match value with
        | Text s ->
            match choices |> List.tryFind (fun (name, _) -> name = s) with
            | Some(_, x) -> Ok x
            | None -> Error(sprintf "%s must be one of %s, got '%s'" field (allowed ()) s)
        | other -> Error(sprintf "%s must be one of %s, got %s" field (allowed ()) (describe other))

    let private switch (field: string) (value: FieldValue) : Result<bool, string> =
        match value with
        | Switch b -> Ok b
        | Text "true" -> Ok true
        | Text "false" -> Ok false
        | other -> Error(sprintf "%s must be true or false, got %s" field (describe other))

    /// A replay ratio as a file or a flag gives it: a number (0.25, 2), the same as text ("0.25"), or a
    /// fraction "a/b" of two numbers ("1/4", the form the help documents). Whether the loop can take the
    /// ratio is replayRatioSchedule's to say; this only reads it.
    let replayRatio (value: FieldValue) : Result<float, string> =
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

    /// An MLP's hidden sizes as a file or flag gives them: "256,256" (or one number, one layer); each a
    /// whole number of units in [1, 65536], one to eight layers.
    let mlpHidden (value: FieldValue) : Result<int list, string> =
        let refuse () = Error(sprintf "mlp_hidden must be one to eight whole numbers of units in [1, 65536], comma-separated (256,256), got %s" (describe value))
        let parts =
            match value with
            | Number x -> Some [ Number x ]
            | Text s -> Some(s.Split(',') |> Array.map (fun p -> Text p) |> List.ofArray)
            | _ -> None
        match parts with
        | Some units when units.Length >= 1 && units.Length <= 8 ->
            match units |> traverse (whole "mlp_hidden" 1L 65_536L) with
            | Ok counts -> Ok(List.map int counts)
            | Error _ -> refuse ()
        | _ -> refuse ()

    let private learningRate (c: AgentConfig) =
        match c.Optimizer with
        | Adam(lr, _) -> lr
        | RmsProp(lr, _, _, _) -> lr

    let private withLearningRate (lr: float) (c: AgentConfig) =
        match c.Optimizer with
        | Adam(_, eps) -> { c with Optimizer = Adam(lr, eps) }
        | RmsProp(_, alpha, eps, centered) -> { c with Optimizer = RmsProp(lr, alpha, eps, centered) }

    let private knob name help read write = { Name = name; Help = help; Read = read; Write = write; Numeric = false }

    let private numeric (f: RunField) = { f with Numeric = true }

    /// A knob every agent has (gamma, batch size, ...), read from the record of the run's agent: SAC's or the DQN family's.
    let private onAgent (ofSac: SacConfig -> 'a) (ofDqn: AgentConfig -> 'a) (c: RunConfig) : 'a =
        if RunConfig.isSac c then ofSac c.Sac else ofDqn c.Hyperparameters

    /// The config with a knob every agent has set on the record of the run's agent.
    let private setOnAgent (setSac: SacConfig -> 'a -> SacConfig) (setDqn: AgentConfig -> 'a -> AgentConfig) (c: RunConfig) (x: 'a) =
        if RunConfig.isSac c then { c with Sac = setSac c.Sac x } else { c with Hyperparameters = setDqn c.Hyperparameters x }

    let private numberField name help (get: RunConfig -> float) set =
        knob name help (get >> Number) (fun v c -> number name v |> Result.map (set c)) |> numeric

    /// Whole numbers a JSON number holds exactly: |n| &lt;= 2^53.
    let private exactWhole = 9_007_199_254_740_992L

    let private wholeField name help (get: RunConfig -> int64) set =
        knob name help (get >> float >> Number) (fun v c -> whole name -exactWhole exactWhole v |> Result.map (set c)) |> numeric

    let private intField name help (get: RunConfig -> int) set =
        knob name help (get >> float >> Number) (fun v c -> whole name (int64 Int32.MinValue) (int64 Int32.MaxValue) v |> Result.map (int >> set c)) |> numeric

    let private choiceField name help (choices: (string * 'a) list) (get: RunConfig -> 'a) set =
        knob name help (get >> Choices.nameIn choices >> Text) (fun v c -> choice name choices v |> Result.map (set c))

    let private switchField name help (get: RunConfig -> bool) set =
        knob name help (get >> Switch) (fun v c -> switch name v |> Result.map (set c))

    /// An optional path (empty when unset; blank text refused with what the path must be).
    let private pathField name help (mustBe: string) (get: RunConfig -> string option) set =
        knob name help
            (fun c -> match get c with Some path -> Text path | None -> Empty)
            (fun v c ->
                match v with
                | Empty -> Ok(set c None)
                | Text path when path.Trim() <> "" -> Ok(set c (Some path))
                | other -> Error(sprintf "%s must be %s, got %s" name mustBe (describe other)))

    let private hyper (c: RunConfig) = c.Hyperparameters

    /// Every field of a run in config.json's order, format first.
    let all: RunField list =
        [ knob "format" (sprintf "the file's format, %s" format) (fun _ -> Text format) (fun v c ->
              match v with
              | Text f when f = format -> Ok c
              | other -> Error(sprintf "format must be '%s', got %s" format (describe other)))
          choiceField "agent" (Choices.agents |> List.map fst |> String.concat ", ") Choices.agents (fun c -> c.Agent) (fun c x -> { c with Agent = x })
          knob "env" "environment id (prunerl envs lists them; Gymnasium's ids such as CartPole-v1 and MinAtar/Breakout-v0 are accepted)" (fun c -> Text c.Env) (fun v c ->
              match v with
              | Text s -> EnvIds.canonical s |> Result.map (fun id -> { c with Env = id })
              | other -> Error(sprintf "env must be an environment id, got %s" (describe other)))
          choiceField "preset" "whose defaults: dopamine (Dopamine's gin files; MinAtar's default), minatar-reference (MinAtar's examples/dqn.py), zoo (tuned for CartPole or Pendulum), haarnoja (Haarnoja et al.'s SAC), rigl (SAC as the paper ran it; MuJoCo's default)" Choices.presets (fun c -> c.Preset) (fun c x -> { c with Preset = x })
          choiceField "network" "mlp, minatar, nature or impala" Choices.networks (fun c -> c.Network) (fun c x -> { c with Network = x })
          knob "mlp_hidden" "an MLP's hidden units per layer before the width scales them, comma-separated (128,128 for the DQN family, 256,256 for SAC)"
              (fun c -> Text(c.MlpHidden |> List.map string |> String.concat ","))
              (fun v c -> mlpHidden v |> Result.map (fun units -> { c with MlpHidden = units }))
          numberField "width" "width multiplier of the layers in width_scope" (fun c -> c.Width) (fun c x -> { c with Width = x })
          choiceField "width_scope" "layers the width scales: conv (the paper's: convolutions, and an MLP's hidden layers) or all (the dense layer after convolutions too, as labs/redo)" Choices.widthScopes (fun c -> c.WidthScope) (fun c x -> { c with WidthScope = x })
          choiceField "init" "how plain layers start: xavier-uniform (Dopamine's, zero biases) or torch-default" Choices.initializations (fun c -> c.Init) (fun c x -> { c with Init = x })
          numberField "sparsity" "final sparsity in [0, 1); 0 trains a dense network (the paper's 0.95)" (fun c -> c.Sparsity) (fun c x -> { c with Sparsity = x })
          choiceField "schedule" "ramp of the gradual schedule: polynomial, linear (polynomial of power 1) or cosine" Choices.ramps (fun c -> c.Ramp) (fun c x -> { c with Ramp = x })
          numberField "power" "exponent of the polynomial ramp" (fun c -> c.Power) (fun c x -> { c with Power = x })
          numberField "prune_start" "pruning starts at this fraction of the gradient updates" (fun c -> c.PruneStart) (fun c x -> { c with PruneStart = x })
          numberField "prune_end" "pruning reaches the final sparsity at this fraction of the gradient updates" (fun c -> c.PruneEnd) (fun c x -> { c with PruneEnd = x })
          wholeField "prune_every" "gradient updates between mask updates" (fun c -> c.PruneEvery) (fun c x -> { c with PruneEvery = x })
          choiceField "distribution" "how sparsity spreads over layers: uniform or erk" Choices.distributions (fun c -> c.Distribution) (fun c x -> { c with Distribution = x })
          choiceField "layer_schedule" "per-layer targets over the ramp: scaled (JaxPruner: each layer's final target times the schedule's fraction) or resolved (the distribution solved at each step)" Choices.layerSchedules (fun c -> c.LayerSchedule) (fun c x -> { c with LayerSchedule = x })
          choiceField "method" "how the network trains sparse (needs sparsity > 0): gmp (gradual magnitude pruning, the paper's; default), static (a random mask from step 0), lottery (a gmp run's final mask on its initial weights: give ticket), set or rigl (drop and regrow: drop fraction 0.3, cosine to 0 at 80% of the updates, every 5000 updates, JaxPruner's Dopamine defaults)" Choices.methods (fun c -> c.Method) (fun c x -> { c with Method = x })
          pathField "ticket" "method lottery: the folder of a finished gmp run with the same network and sparsity, whose ticket.bin (initial weights, final masks) it retrains"
              "the folder of a finished gmp run" (fun c -> c.Ticket) (fun c x -> { c with Ticket = x })
          wholeField "rewind_step" "the lottery ticket's rewind step in gradient updates (0: the initial weights): a gmp run records its weights there too, a lottery run starts from them" (fun c -> c.RewindStep) (fun c x -> { c with RewindStep = x })
          numberField "drop_fraction" "set and rigl: the fraction of kept weights dropped and regrown at the first rewiring, decaying with a cosine to 0 at 80% of the updates (JaxPruner's 0.3)" (fun c -> c.DropFraction) (fun c x -> { c with DropFraction = x })
          wholeField "rewire_every" "set and rigl: gradient updates between rewirings (JaxPruner's 5000)" (fun c -> c.RewireEvery) (fun c x -> { c with RewireEvery = x })
          choiceField "baseline" "none, reset or redo (dense networks), wd (decoupled weight decay) or l2 (an L2 term in the loss)" Choices.baselines (fun c -> c.Baseline) (fun c x -> { c with Baseline = x })
          knob "baseline_period" "gradient updates between applications of the baseline: a whole number, or a fraction of the run's updates below 1 (Reset 100000, ReDo 200000 by default: for a run of U updates, the paper's 2.5M-update cadence is 0.04 and 0.08)"
              (fun c -> match c.BaselinePeriod with StepPoint.Absolute n -> Number(float n) | StepPoint.Fraction f -> Number f)
              (fun v c ->
                  number "baseline_period" v
                  |> Result.bind (fun x ->
                      if Double.IsFinite x && x > 0.0 && x < 1.0 then Ok(StepPoint.Fraction x)
                      elif Double.IsFinite x && x >= 1.0 && Math.Floor x = x && x <= float exactWhole then Ok(StepPoint.Absolute(int64 x))
                      else Error(sprintf "baseline_period must be a whole number of updates >= 1 or a fraction in (0, 1) of the run's updates, got %s" (show x)))
                  |> Result.map (fun p -> { c with BaselinePeriod = p }))
          |> numeric
          numberField "redo_tau" "ReDo's dormancy threshold (the paper's best, 0.1)" (fun c -> c.RedoTau) (fun c x -> { c with RedoTau = x })
          numberField "weight_decay" "wd and l2 baselines: the coefficient lambda (1e-5, the paper's best weight decay)" (fun c -> c.WeightDecay) (fun c x -> { c with WeightDecay = x })
          intField "reset_layers" "Reset: how many last layers are renewed (1 or 2)" (fun c -> c.ResetLayers) (fun c x -> { c with ResetLayers = x })
          wholeField "steps" "agent steps" (fun c -> c.Steps) (fun c x -> { c with Steps = x })
          knob "replay_ratio" "gradient updates per agent step: 1, 2, ... or 1/k (0.25 and 1/4 alike)"
              (onAgent SacConfig.replayRatio ReplayRatio.ofAgent >> Number)
              (fun v c ->
                  replayRatio v
                  |> Result.bind ReplayRatio.schedule
                  |> Result.map (
                      setOnAgent
                          (fun a (period, perStep) -> { a with UpdatePeriod = period; UpdatesPerStep = perStep })
                          (fun a (period, perStep) -> { a with UpdatePeriod = period; UpdatesPerStep = perStep })
                          c))
          wholeField "seed" "seed of everything random in the run" (fun c -> c.Seed) (fun c x -> { c with Seed = x })
          choiceField "device" "auto, cpu or cuda" Choices.devices (fun c -> c.Device) (fun c x -> { c with Device = x })
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
          |> numeric
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
          choiceField "loss" "TD loss of expected values: squared (Dopamine's JAX DQN) or huber (MinAtar's reference DQN)" Choices.losses (hyper >> _.Loss) (fun c x -> { c with Hyperparameters.Loss = x })
          switchField "double_q" "double Q-learning's target" (hyper >> _.DoubleQ) (fun c x -> { c with Hyperparameters.DoubleQ = x })
          switchField "dueling" "value and advantage streams" (hyper >> _.Dueling) (fun c x -> { c with Hyperparameters.Dueling = x })
          intField "atoms" "atoms of the C51 distribution (1: expected values)" (hyper >> _.Atoms) (fun c x -> { c with Hyperparameters.Atoms = x })
          numberField "v_min" "lower end of the C51 support" (hyper >> _.VMin) (fun c x -> { c with Hyperparameters.VMin = x })
          numberField "v_max" "upper end of the C51 support" (hyper >> _.VMax) (fun c x -> { c with Hyperparameters.VMax = x })
          choiceField "priority_sampling" "prioritized replay's draw: iid (Dopamine's JAX sampler) or stratified (Schaul et al.)" Choices.prioritySamplings (hyper >> _.PrioritySampling) (fun c x -> { c with Hyperparameters.PrioritySampling = x })
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
          pathField "dataset" "offline agents: the dataset file to learn from (a run's dataset.prlds)"
              "the path of a dataset file" (fun c -> c.Dataset) (fun c x -> { c with Dataset = x })
          numberField "conservative_weight" "offline agents: CQL's weight alpha (0: plain offline DQN or C51)" _.ConservativeWeight (fun c x -> { c with ConservativeWeight = x })
          switchField "record_dataset" "online DQN family: write the run's experience to dataset.prlds in its folder" _.RecordDataset (fun c x -> { c with RecordDataset = x }) ]

    /// The names of every field, in order.
    let names: string list = all |> List.map _.Name

    /// The field of a name; an error naming the unknown key and listing the known ones.
    let field (name: string) : Result<RunField, string> =
        match all |> List.tryFind (fun f -> f.Name = name) with
        | Some f -> Ok f
        | None -> Error(sprintf "unknown field '%s'; the fields are %s" name (String.concat ", " names))

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
        | "dataset" | "conservative_weight" -> RunConfig.isOffline agent
        | "epsilon_train" | "epsilon_decay_steps" | "record_dataset" -> not sac && not (RunConfig.isOffline agent)
        | "replay_ratio" | "replay_capacity" | "min_replay" -> not (RunConfig.isOffline agent)
        | "baseline" | "baseline_period" | "redo_tau" | "weight_decay" | "reset_layers" | "analyse_every" | "srank_states" | "dormant_states" | "init" | "n_step" | "target_update_period"
        | "learning_rate" | "loss" | "epsilon_eval" | "double_q" | "dueling" | "atoms" | "v_min" | "v_max" | "priority_sampling"
        | "noisy" | "noisy_sigma0" | "augmentation" | "shift_padding" | "intensity_scale" -> not sac
        | _ -> true

    /// An error naming the first field that does not apply to the agent, and the agents it applies to.
    let checkApplies (agent: AgentKind) (names: string list) : Result<unit, string> =
        match names |> List.tryFind (fun name -> not (appliesTo agent name)) with
        | Some name ->
            let those = Choices.agents |> List.filter (fun (_, a) -> appliesTo a name) |> List.map fst |> String.concat ", "
            Error(sprintf "%s does not apply to agent %s (only to %s); leave it out" name (Choices.nameIn Choices.agents agent) those)
        | None -> Ok()

    /// The config's fields that apply to its agent (appliesTo) as name and value, in config.json's order.
    let toFields (c: RunConfig) : (string * FieldValue) list =
        all |> List.filter (fun f -> appliesTo c.Agent f.Name) |> List.map (fun f -> f.Name, f.Read c)

    /// The fields that decide nothing of a run's tensors or stream: the file's format, the device (a run moves),
    /// and what only reports on the run or keeps it (evaluations, analyses, checkpoints, the early stop).
    let private reportingOnly =
        set [ "format"; "device"; "checkpoint_every"; "eval_every"; "eval_episodes"; "stop_at"; "analyse_every"; "srank_states"; "dormant_states" ]

    /// The fields added after runs were first recorded (the sparse-training method's), at the value a run without
    /// them had: the fingerprint leaves them out at that value, so a checkpoint written before they existed still
    /// resumes, and a report reads a config.json without them as holding these values.
    let addedFields =
        [ "method", Text(SparseMethod.name RunConfig.defaultMethod)
          "ticket", Empty
          "rewind_step", Number(float RunConfig.defaultRewindStep)
          "drop_fraction", Number RunConfig.defaultDropFraction
          "rewire_every", Number(float RunConfig.defaultRewireEvery) ]

    /// A run's compatibility fingerprint as its checkpoints record it: the config's fields that decide the run's
    /// tensors and stream (toFields without reportingOnly's, and without the sparse-training fields at their defaults (addedFields)), by config.json name, each value as a message shows it
    /// (describe). Resuming a checkpoint of another fingerprint is refused, naming the fields that differ.
    let fingerprint (c: RunConfig) : (string * string) list =
        toFields c
        |> List.filter (fun (name, value) -> not (reportingOnly.Contains name) && not (List.contains (name, value) addedFields))
        |> List.map (fun (name, value) -> name, describe value)

    /// The config with the fields set in order (a later value of a field wins); the first bad key or
    /// value is the error.
    let apply (values: (string * FieldValue) list) (c: RunConfig) : Result<RunConfig, string> =
        values |> List.fold (fun acc (name, value) -> acc |> Result.bind (fun c -> field name |> Result.bind (fun f -> f.Write value c))) (Ok c)
