namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// A run's fields checked, each against its range and against each other and the environment.
[<RequireQualifiedAccess>]
module RunValidation =

    /// The smallest frame (height and width) a convolutional network takes: the MinAtar network's
    /// unpadded 3x3 convolution needs 3; the Nature network's 8/4, 4/2 and 3/1 convolutions need
    /// (3 - 1) * 2 + 4 = 8 after the first, (8 - 1) * 4 + 8 = 36 before it; the Impala ResNet pads.
    let private smallestFrame (network: NetworkKind) =
        match network with
        | NetworkKind.Mlp -> 1
        | NetworkKind.MinAtar -> 3
        | NetworkKind.Nature -> 36
        | NetworkKind.Impala -> 1

    /// The most episodes one evaluation plays: 100 times the protocol's 10 (MinAtar; 5 for classic control,
    /// README "The protocol"). Evaluations are synchronous, so an unbounded count (2^31 - 1) would never let
    /// the run go on; 1,000 episodes of a 1,000-step game are already a million steps, a whole MinAtar run.
    [<Literal>]
    let MaxEvalEpisodes = 1000

    let private checkNetwork (c: RunConfig) (env: EnvironmentInfo) =
        let name = Choices.nameIn Choices.networks c.Network
        let shape = "[" + (env.ObservationShape |> List.map string |> String.concat ", ") + "]"
        match c.Network, env.ObservationShape with
        | NetworkKind.Mlp, _ -> Ok()
        | _, [ _; h; w ] when min h w >= smallestFrame c.Network -> Ok()
        | _, [ _; _; _ ] ->
            Error(sprintf "network %s needs frames of at least %dx%d, env %s gives %s; use minatar, impala or mlp" name (smallestFrame c.Network) (smallestFrame c.Network) env.Id shape)
        | _ ->
            Error(sprintf "network %s needs [channels, height, width] observations, env %s gives %s; use mlp" name env.Id shape)

    /// Checks the sparse-training method against the other fields: a method other than gmp trains a sparse
    /// network, so it needs sparsity > 0; lottery needs a ticket, which no other method takes; drop_fraction is in [0, 1] and rewire_every >= 1; rewind_step is
    /// >= 0, below the run's gradient updates, and for gmp (which records the weights there) or lottery only.
    let checkMethod (c: RunConfig) : Result<unit, string> =
        let name = SparseMethod.name c.Method
        if c.Method <> GMP && c.Sparsity = 0.0 then
            Error(sprintf "method %s trains a sparse network: give sparsity > 0 (sparsity 0 trains a dense one, where no method applies)" name)
        elif c.Method = Lottery && c.Ticket.IsNone then
            Error "method lottery needs ticket: the folder of a finished gmp run (its ticket.bin holds the initial weights and final masks)"
        elif c.Method <> Lottery && c.Ticket.IsSome then
            Error(sprintf "ticket applies to method lottery only, got method %s" name)
        elif not (c.DropFraction >= 0.0 && c.DropFraction <= 1.0) then
            Error(sprintf "drop_fraction must be in [0, 1], got %s" (show c.DropFraction))
        elif c.RewireEvery < 1L then
            Error(sprintf "rewire_every must be >= 1, got %d" c.RewireEvery)
        elif c.RewindStep < 0L then
            Error(sprintf "rewind_step must be >= 0, got %d" c.RewindStep)
        elif c.RewindStep > 0L && c.Method <> GMP && c.Method <> Lottery then
            Error(sprintf "rewind_step applies to methods gmp (which records the weights there) and lottery (which starts from them), got method %s" name)
        elif c.RewindStep > 0L && c.Sparsity = 0.0 then
            Error "rewind_step applies to pruned runs (a gmp run records its lottery ticket's weights there): give sparsity > 0"
        elif c.RewindStep > 0L && c.RewindStep >= RunConfig.gradientUpdates c then
            Error(sprintf "rewind_step must be below the run's %d gradient updates, got %d" (RunConfig.gradientUpdates c) c.RewindStep)
        else Ok()

    /// Checks every field's range and the fields against each other: a known environment with discrete
    /// actions for the DQN family (online and offline) and continuous ones for SAC, a network that takes
    /// its observations (SAC: mlp), width > 0, sparsity in [0, 1), power > 0, 0 &lt;= prune_start &lt;
    /// prune_end &lt;= 1, prune_every >= 1, a baseline only on a dense network (not
    /// pruned), the sparse-training method (checkMethod), augmentation only of image observations, steps > min_replay (so the
    /// agent learns), seed >= 0, counts >= 0, the agent's hyperparameters (AgentConfig.validate or
    /// SacConfig.validate), a dataset for an offline agent and conservative_weight >= 0. Whether the
    /// dataset file exists and matches the environment is for the caller, who can read it. The first
    /// failure names the field and what is allowed. A width must also keep every scaled layer's units
    /// (RunSize.smallestWidth), and eval_episodes is at most MaxEvalEpisodes.
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
            let agent = Choices.nameIn Choices.agents c.Agent
            do!
                let discrete = not (RunConfig.isSac c)
                let kind isDiscrete = if isDiscrete then "discrete" else "continuous"
                if env.DiscreteActions = discrete then Ok()
                else
                    let those = environments |> List.filter (fun e -> e.DiscreteActions = discrete && e.Unavailable.IsNone) |> List.map _.Id |> String.concat ", "
                    Error(sprintf "env must have %s actions for agent %s (one of %s), got '%s', whose actions are %s" (kind discrete) agent those c.Env (kind env.DiscreteActions))
            do!
                if RunConfig.isSac c && c.Network <> NetworkKind.Mlp then
                    Error(sprintf "network must be mlp for agent sac (its actor and critics are MLPs), got '%s'" (Choices.nameIn Choices.networks c.Network))
                else Ok()
            do! checkNetwork c env
            do!
                match c.Hyperparameters.Augment, env.ObservationShape with
                | false, _
                | true, [ _; _; _ ] -> Ok()
                | true, shape ->
                    Error(sprintf "augmentation shifts image observations ([channels, height, width]); env %s gives [%s]: set augmentation false" env.Id (shape |> List.map string |> String.concat ", "))
            do!
                let allowed = Presets.presetsFor c.Env c.Agent
                if List.contains c.Preset allowed then Ok()
                else
                    Error(sprintf "preset %s does not apply to agent %s on %s (it takes %s)" (Choices.nameIn Choices.presets c.Preset) agent c.Env
                              (allowed |> List.map (Choices.nameIn Choices.presets) |> String.concat ", "))
            do!
                if c.SrankStates >= 1 && c.SrankStates <= 65_536 then Ok()
                else Error(sprintf "srank_states must be a whole number in [1, 65536], got %d" c.SrankStates)
            do!
                if c.DormantStates >= 1 && c.DormantStates <= 65_536 then Ok()
                else Error(sprintf "dormant_states must be a whole number in [1, 65536], got %d" c.DormantStates)
            do! positive "width" c.Width |> Result.map ignore
            do!
                if c.Width > RunSize.smallestWidth c then Ok()
                else
                    Error(sprintf "width must be > %s for network %s (its smallest scaled layer, %d units, keeps one unit of its own), got %s"
                              (show (RunSize.smallestWidth c)) (Choices.nameIn Choices.networks c.Network) (List.min (RunSize.scaledLayers c)) (show c.Width))
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
                else Error(sprintf "baseline must be none, wd or l2 for a pruned network (reset and redo renew dense networks: set sparsity 0), got '%s'" (Choices.nameIn Choices.baselines c.Baseline))
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
            do!
                if c.EvalEpisodes <= MaxEvalEpisodes then Ok()
                else Error(sprintf "eval_episodes must be <= %d (an evaluation's episodes are played before the run goes on), got %d" MaxEvalEpisodes c.EvalEpisodes)
            do! atLeast "analyse_every" 0L c.AnalyseEvery |> Result.map ignore
            do! atLeast "checkpoint_every" 0L c.CheckpointEvery |> Result.map ignore
            do!
                match c.StopAt with
                | Some x when not (Double.IsFinite x) -> Error(sprintf "stop_at must be a finite number or null, got %s" (show x))
                | _ -> Ok()
            do!
                if RunConfig.isSac c then SacConfig.validate c.Sac |> Result.map ignore
                else AgentConfig.validate c.Hyperparameters |> Result.map ignore
            do! ReplayRatio.schedule (RunConfig.replayRatio c) |> Result.map ignore
            do!
                let warmUp = (RunConfig.clock c).MinReplay
                if c.Steps > warmUp then Ok()
                else Error(sprintf "steps must be > min_replay (%d) so that the agent learns, got %d" warmUp c.Steps)
            do! checkMethod c
            do!
                match c.Dataset with
                | None when RunConfig.isOffline c.Agent ->
                    Error(sprintf "dataset must name the dataset file agent %s learns from (a run trained with record_dataset true writes one)" agent)
                | _ -> Ok()
            do!
                if Double.IsFinite c.ConservativeWeight && c.ConservativeWeight >= 0.0 then Ok()
                else Error(sprintf "conservative_weight must be a finite number >= 0, got %s" (show c.ConservativeWeight))
            let! _ = RunConfig.schedule c
            return c
        }

    /// Checks that a valid run can be allocated on this machine (RunSize.check): its layers and replay array
    /// within .NET's and torch's limits, and, when `available` gives the memory free to the process in bytes
    /// (the command line reads /proc/meminfo), its network and replay memory within it. For train and
    /// sweep, `--dry-run` included, before anything is written.
    let fits (environments: EnvironmentInfo list) (available: int64 option) (c: RunConfig) : Result<RunConfig, string> =
        match environments |> List.tryFind (fun e -> e.Id = c.Env) with
        | Some env -> RunSize.check available c env.ObservationShape |> Result.map (fun () -> c)
        | None -> Ok c
