/// Run configurations: resolution reads back what it writes (every agent family), validation rejects each
/// bad field by name, a field that does not apply to the agent is refused by name, replay ratios map onto
/// the loop exactly, and sweep grids have one uniquely named run per combination.
module Prunerl.Properties.RunConfigProperties

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

/// Environments as the registry describes them: vectors and MinAtar frames, one with continuous
/// actions, one that cannot run here.
let private environments: EnvironmentInfo list =
    [ { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None }
      { Id = "acrobot"; ObservationShape = [ 6 ]; DiscreteActions = true; Unavailable = None }
      { Id = "pendulum"; ObservationShape = [ 3 ]; DiscreteActions = false; Unavailable = None }
      { Id = "mujoco/halfcheetah"; ObservationShape = [ 17 ]; DiscreteActions = false; Unavailable = None }
      { Id = "minatar/breakout"; ObservationShape = [ 4; 10; 10 ]; DiscreteActions = true; Unavailable = None }
      { Id = "minatar/seaquest"; ObservationShape = [ 10; 10; 10 ]; DiscreteActions = true; Unavailable = None }
      { Id = "mujoco/hopper"; ObservationShape = []; DiscreteActions = false; Unavailable = Some "the MuJoCo engine is not installed" } ]

let private orFail r =
    match r with
    | Ok x -> x
    | Error e -> failwithf "rejected: %s" e

/// A valid run of one of the agents: an environment's defaults with some knobs turned, always within range.
let private validRunOf (agents: AgentKind list) : Gen<RunConfig> =
    gen {
        let! agent = Gen.elements agents
        let sac = agent = AgentKind.Sac
        let offline = RunConfig.isOffline agent
        let! env =
            if sac then Gen.elements [ "pendulum"; "mujoco/halfcheetah" ]
            else Gen.elements [ "cartpole"; "acrobot"; "minatar/breakout"; "minatar/seaquest" ]
        let! noisy = Gen.elements [ true; false ]
        let! sigma0 = Gen.elements [ 0.1; 0.5; 0.017 ]
        let! augment = Gen.elements [ true; false ]
        let! padding = Gen.choose (1, 4)
        let! intensity = Gen.elements [ 0.0; 0.05; 0.2 ]
        let! width = Gen.elements [ 0.25; 0.5; 1.0; 2.0; 3.0; 4.0; 16.0 ]
        let! sparsity = Gen.oneof [ Gen.constant 0.0; sparsity ]
        let! start = Gen.choose (0, 50)
        let! length = Gen.choose (1, 50)
        let! ratio = Gen.elements [ 0.125; 0.25; 0.5; 1.0; 2.0; 4.0 ]
        let! seed = Gen.choose (0, 1_000_000)
        let! steps = Gen.choose (12_000, 3_000_000)
        let! ramp = Gen.elements [ RampKind.Polynomial; RampKind.Cosine ]
        let! distribution = Gen.elements [ DistributionKind.Uniform; DistributionKind.Erk ]
        let! baseline =
            if sparsity = 0.0 && not sac then Gen.elements [ BaselineKind.None; BaselineKind.Reset; BaselineKind.Redo ]
            else Gen.constant BaselineKind.None
        let! stopAt = Gen.elements [ None; Some 475.0; Some -100.0 ]
        // A method other than gmp trains a sparse network; lottery names its ticket.
        let! method = if sparsity = 0.0 then Gen.constant GMP else Gen.elements SparseMethod.all
        let! dropFraction = Gen.elements [ 0.0; 0.1; 0.3; 1.0 ]
        let! rewireEvery = Gen.elements [ 1L; 100L; 5000L ]
        let! rewind = if sparsity > 0.0 && (method = GMP || method = Lottery) then Gen.elements [ 0L; 1L ] else Gen.constant 0L
        let! tau = Gen.elements [ 0.005; 0.01; 1.0 ]
        let! weight = Gen.elements [ 0.0; 0.1; 1.0; 4.0 ]
        let! record = Gen.elements [ false; true ]
        let base' = Presets.defaults env agent
        let period, perStep = ReplayRatio.schedule ratio |> orFail
        let run =
            { base' with
                Width = width
                Sparsity = sparsity
                PruneStart = float start / 100.0
                PruneEnd = float (start + length) / 100.0
                Ramp = ramp
                Distribution = distribution
                Baseline = baseline
                Seed = int64 seed
                Steps = int64 steps
                StopAt = stopAt
                // What does not apply to the agent keeps its default (config.json leaves it out).
                Hyperparameters =
                    if sac then base'.Hyperparameters
                    else
                        let online = if offline then base'.Hyperparameters else { base'.Hyperparameters with UpdatePeriod = period; UpdatesPerStep = perStep }
                        { online with
                            Noisy = noisy
                            NoisySigma0 = sigma0
                            // Augmentation shifts frames: only where the observations are images.
                            Augment = augment && RunConfig.isMinAtar env
                            ShiftPadding = padding
                            IntensityScale = intensity }
                Sac = if sac then { base'.Sac with Tau = tau; UpdatePeriod = period; UpdatesPerStep = perStep } else base'.Sac
                Dataset = if offline then Some "/data/cartpole run.prlds" else None
                ConservativeWeight = if offline then weight else base'.ConservativeWeight
                RecordDataset = record && not sac && not offline
                Method = method
                Ticket = if method = Lottery then Some "/runs/gmp run_seed1" else None
                DropFraction = dropFraction
                RewireEvery = rewireEvery }
        // A rewind step must fall within the run's updates.
        return { run with RewindStep = if RunConfig.gradientUpdates run > rewind then rewind else 0L }
    }

let private allAgents = Choices.agents |> List.map snd

/// A valid run of any agent.
let private validRun = validRunOf allAgents

/// A valid run of the online DQN family, whose every field the bad values below may set.
let private onlineDqnRun = validRunOf [ AgentKind.Dqn; AgentKind.Rainbow; AgentKind.Der; AgentKind.Drq ]

/// A value for each field that validation refuses, and the words its message must hold.
let private badValues: (string * FieldValue * string) list =
    [ "format", Text "prunerl-run/0", "format must be"
      "agent", Text "ppo", "agent must be one of dqn, rainbow"
      "env", Text "pong", "env must be one of"
      "env", Text "pendulum", "env must have discrete actions"
      "env", Text "mujoco/hopper", "env mujoco/hopper cannot run here: the MuJoCo engine is not installed"
      "env", Number 3.0, "env must be"
      "network", Text "resnet", "network must be one of mlp, minatar, nature, impala"
      "mlp_hidden", Text "128,0", "mlp_hidden must be one to eight whole numbers of units"
      "width", Number 0.0, "width must be"
      "width", Number -2.0, "width must be"
      "width", Text "wide", "width must be a number"
      "width", Number 1e-300, "width must be > "
      "sparsity", Number 1.0, "sparsity must be in [0, 1)"
      "sparsity", Number -0.1, "sparsity must be in [0, 1)"
      "sparsity", Number nan, "sparsity must be in [0, 1)"
      "schedule", Text "step", "schedule must be one of polynomial, linear, cosine"
      "power", Number 0.0, "power must be"
      "prune_start", Number -0.5, "prune_start must be in [0, 1]"
      "prune_start", Number 0.95, "prune_end must be > prune_start"
      "prune_end", Number 1.5, "prune_end must be in [0, 1]"
      "prune_end", Number 0.1, "prune_end must be > prune_start"
      "prune_every", Number 0.0, "prune_every must be >= 1"
      "prune_every", Number 2.5, "prune_every must be a whole number"
      "distribution", Text "random", "distribution must be one of uniform, erk"
      "baseline", Text "shrink", "baseline must be one of none, reset, redo"
      "baseline_period", Number 0.0, "baseline_period must be a whole number of updates >= 1 or a fraction in (0, 1)"
      "baseline_period", Number 2.5, "baseline_period must be a whole number of updates >= 1 or a fraction in (0, 1)"
      "preset", Text "sb3", "preset must be one of dopamine, minatar-reference, zoo, haarnoja"
      "width_scope", Text "dense", "width_scope must be one of conv, all"
      "init", Text "orthogonal", "init must be one of xavier-uniform, torch-default"
      "layer_schedule", Text "linear", "layer_schedule must be one of scaled, resolved"
      "srank_states", Number 0.0, "srank_states must be a whole number in [1, 65536]"
      "dormant_states", Number 100000.0, "dormant_states must be a whole number in [1, 65536]"
      "loss", Text "l1", "loss must be one of squared, huber"
      "redo_tau", Number 1.5, "redo_tau must be in [0, 1]"
      "reset_layers", Number 3.0, "reset_layers must be 1 or 2"
      "method", Text "sparse", "method must be one of gmp, static, lottery, set, rigl"
      "drop_fraction", Number 1.5, "drop_fraction must be in [0, 1]"
      "rewire_every", Number 0.0, "rewire_every must be >= 1"
      "rewind_step", Number -1.0, "rewind_step must be >= 0"
      "steps", Number 0.0, "steps must be >= 1"
      "steps", Number 10.0, "steps must be > min_replay"
      "replay_ratio", Number 0.3, "replay_ratio must be a whole number of updates per step"
      "replay_ratio", Number 1.5, "replay_ratio must be"
      "replay_ratio", Number 0.0, "replay_ratio must be"
      "replay_ratio", Text "1/x", "replay_ratio must be a number (1, 2, 0.25, ...) or a fraction 1/k (1/4, ...), got '1/x'"
      "replay_ratio", Text "1/0", "replay_ratio must be a number (1, 2, 0.25, ...) or a fraction 1/k (1/4, ...), got '1/0'"
      "replay_ratio", Text "1/2/3", "replay_ratio must be a number (1, 2, 0.25, ...) or a fraction 1/k (1/4, ...), got '1/2/3'"
      "replay_ratio", Text "2/3", "replay_ratio must be a whole number of updates per step (1, 2, 4, ...) or 1/k"
      "seed", Number -1.0, "seed must be >= 0"
      "device", Text "tpu", "device must be one of auto, cpu, cuda"
      "eval_every", Number -1.0, "eval_every must be >= 0"
      "eval_episodes", Number 0.0, "eval_episodes must be >= 1"
      "eval_episodes", Number 2147483647.0, "eval_episodes must be <= 1000"
      "analyse_every", Number -5.0, "analyse_every must be >= 0"
      "checkpoint_every", Number -5.0, "checkpoint_every must be >= 0"
      "stop_at", Number infinity, "stop_at must be a finite number"
      "stop_at", Switch true, "stop_at must be a number"
      "gamma", Number 1.5, "gamma must be in [0, 1]"
      "n_step", Number 0.0, "n_step must be >= 1"
      "n_step", Number 2147483647.0, "n_step must be < replay_capacity"
      "batch_size", Number 0.0, "batch_size must be >= 1"
      "replay_capacity", Number 1.0, "replay_capacity must be >= batch_size"
      "min_replay", Number -1.0, "min_replay must be >= 0"
      "target_update_period", Number 0.0, "target_update_period must be >= 1"
      "learning_rate", Number 0.0, "learning_rate must be"
      "epsilon_train", Number 2.0, "epsilon_train must be in [0, 1]"
      "epsilon_decay_steps", Number -1.0, "epsilon_decay_steps must be >= 0"
      "epsilon_eval", Number -0.5, "epsilon_eval must be in [0, 1]"
      "double_q", Text "maybe", "double_q must be true or false"
      "dueling", Number 1.0, "dueling must be true or false"
      "atoms", Number 0.0, "atoms must be >= 1"
      "v_max", Number -200.0, "v_max must be > v_min"
      "v_min", Number nan, "v_min must be a finite number, got NaN"
      "v_max", Number infinity, "v_max must be a finite number"
      "noisy", Text "maybe", "noisy must be true or false"
      "augmentation", Number 1.0, "augmentation must be true or false"
      "shift_padding", Number -2.0, "shift_padding must be >= 0"
      "shift_padding", Number 1.5, "shift_padding must be a whole number"
      "intensity_scale", Number 0.5, "intensity_scale must be in [0, 0.5)"
      "intensity_scale", Number -0.1, "intensity_scale must be in [0, 0.5)"
      "record_dataset", Number 1.0, "record_dataset must be true or false" ]

/// Bad values of SAC's fields and of the fields SAC checks differently.
let private badSacValues: (string * FieldValue * string) list =
    [ "env", Text "cartpole", "env must have continuous actions for agent sac (one of pendulum, mujoco/halfcheetah)"
      "network", Text "minatar", "network must be mlp for agent sac"
      "tau", Number 0.0, "tau must be in (0, 1]"
      "tau", Number 1.5, "tau must be in (0, 1]"
      "actor_learning_rate", Number 0.0, "actor_learning_rate must be"
      "critic_learning_rate", Number -1.0, "critic_learning_rate must be"
      "alpha_learning_rate", Text "fast", "alpha_learning_rate must be a number"
      "initial_alpha", Number 0.0, "initial_alpha must be"
      "target_entropy", Number infinity, "target_entropy (per action dimension) must be a finite number"
      "gamma", Number 1.5, "gamma must be in [0, 1]"
      "batch_size", Number 0.0, "batch_size must be >= 1"
      "replay_capacity", Number 1.0, "replay_capacity must be >= batch_size"
      "replay_ratio", Number 0.3, "replay_ratio must be a whole number of updates per step"
      "steps", Number 5.0, "steps must be > min_replay" ]

/// Bad values of the offline agents' fields.
let private badOfflineValues: (string * FieldValue * string) list =
    [ "env", Text "pendulum", "env must have discrete actions for agent cql"
      "dataset", Empty, "dataset must name the dataset file agent cql"
      "dataset", Number 3.0, "dataset must be the path of a dataset file"
      "dataset", Text " ", "dataset must be the path of a dataset file"
      "conservative_weight", Number -1.0, "conservative_weight must be a finite number >= 0"
      "conservative_weight", Number nan, "conservative_weight must be a finite number >= 0" ]

/// A run with a field set to a value, resolved as a file and flags would give it.
let private resolveWith (run: RunConfig) (name: string) (value: FieldValue) =
    Resolution.resolve environments (RunFields.toFields run @ [ name, value ])

/// A SAC run with a bad SAC value, or a CQL run with a bad offline value.
let private badSacOrOffline =
    Gen.oneof
        [ Gen.zip (validRunOf [ AgentKind.Sac ]) (Gen.elements badSacValues)
          Gen.zip (validRunOf [ AgentKind.Cql ]) (Gen.elements badOfflineValues) ]

/// A run with a field that does not apply to its agent, and a well-formed value of that field (its
/// default for an agent it applies to).
let private foreignField =
    gen {
        let! run = validRun
        let! name = Gen.elements (RunFields.names |> List.filter (fun name -> not (RunFields.appliesTo run.Agent name)))
        let owner = allAgents |> List.find (fun a -> RunFields.appliesTo a name)
        return run, name, (RunFields.field name |> orFail).Read(Presets.defaults "cartpole" owner)
    }

let private axis name values = Gen.choose (1, 3) |> Gen.map (fun n -> name, List.truncate n values)
/// A grid over environments, widths, sparsities, seeds and replay ratios, of 1 to 3 values each.
let private grid =
    gen {
        let! envs = Gen.elements [ [ "cartpole" ]; [ "cartpole"; "minatar/breakout" ]; [ "acrobot"; "minatar/seaquest"; "cartpole" ] ]
        let! widths = axis "width" [ Number 1.0; Number 0.5; Number 4.0 ]
        let! sparsities = axis "sparsity" [ Number 0.0; Number 0.9; Number 0.99 ]
        let! seeds = axis "seed" [ Number 1.0; Number 2.0; Number 30.0 ]
        let! ratios = axis "replay_ratio" [ Number 0.25; Number 1.0; Number 2.0 ]
        let! steps = Gen.elements [ [ "steps", [ Number 20000.0 ] ]; [] ]
        let! agents = axis "agent" [ Text "dqn"; Text "rainbow" ]
        return [ "env", envs |> List.map Text; agents; widths; sparsities; seeds; ratios ] @ steps
    }

/// A union of grids as the paper's multi-family study: shared sparsities and seeds, a DQN-family grid on
/// discrete environments (widths and maybe its own seeds, replacing the shared ones) and a SAC grid on
/// continuous ones, in either order.
let private grids =
    gen {
        let! sparsities = axis "sparsity" [ Number 0.0; Number 0.9 ]
        let! seeds = axis "seed" [ Number 1.0; Number 2.0; Number 3.0 ]
        let! dqnEnvs = Gen.elements [ [ "cartpole" ]; [ "cartpole"; "minatar/breakout" ] ]
        let! agent = Gen.elements [ "dqn"; "rainbow" ]
        let! widths = axis "width" [ Number 1.0; Number 4.0 ]
        let! ownSeeds = Gen.elements [ []; [ "seed", [ Number 7.0 ] ] ]
        let! sacEnvs = Gen.elements [ [ "pendulum" ]; [ "pendulum"; "mujoco/halfcheetah" ] ]
        let dqn = [ "agent", [ Text agent ]; "env", dqnEnvs |> List.map Text; widths ] @ ownSeeds
        let sac = [ "agent", [ Text "sac" ]; "env", sacEnvs |> List.map Text ]
        let! sacFirst = Gen.elements [ true; false ]
        return [ sparsities; seeds ], (if sacFirst then [ sac; dqn ] else [ dqn; sac ])
    }

[<Tests>]
let tests =
    testList "Run configuration properties" [
        testPropertyWithConfig config "a config's fields resolve back to the same config" <|
            Prop.forAll (arb validRun) (fun run ->
                Expect.equal (RunValidation.validate environments run) (Ok run) "the generated run is valid"
                Expect.equal (Resolution.resolve environments (RunFields.toFields run)) (Ok run) "read back"
                Expect.equal (RunFields.toFields run |> List.map fst) (RunFields.names |> List.filter (RunFields.appliesTo run.Agent)) "every field of the agent, in order")

        testPropertyWithConfig config "validation rejects each bad field, naming it and what is allowed" <|
            Prop.forAll (arb (Gen.zip onlineDqnRun (Gen.elements badValues))) (fun (run, (name, value, words)) ->
                // The C51 support only matters with atoms, the pruning window only when pruning.
                let run =
                    { run with
                        Sparsity = 0.9
                        PruneStart = 0.2
                        PruneEnd = 0.8
                        Baseline = BaselineKind.None
                        Hyperparameters = { run.Hyperparameters with Atoms = 51 } }
                match resolveWith run name value with
                | Ok _ -> failtestf "%s = %s accepted" name (RunFields.describe value)
                | Error e -> Expect.stringContains e words "the message names the field and what is allowed")

        testPropertyWithConfig config "validation rejects each bad SAC and offline field, naming it" <|
            Prop.forAll (arb badSacOrOffline) (fun (run, (name, value, words)) ->
                match resolveWith run name value with
                | Ok _ -> failtestf "%s = %s accepted for %A" name (RunFields.describe value) run.Agent
                | Error e -> Expect.stringContains e words "the message names the field and what is allowed")

        testPropertyWithConfig config "a field that does not apply to the agent is refused by name, not ignored" <|
            Prop.forAll (arb foreignField) (fun (run, name, value) ->
                let agent = Choices.agents |> List.find (snd >> (=) run.Agent) |> fst
                let words = sprintf "%s does not apply to agent %s (only to " name agent
                match resolveWith run name value with
                | Ok _ -> failtestf "%s accepted for agent %s" name agent
                | Error e -> Expect.stringStarts e words "names the field and the agent"
                match Resolution.agrees run [ name, value ] with
                | Ok() -> failtestf "%s agreed for agent %s" name agent
                | Error e -> Expect.stringStarts e words "a resumed run refuses it too")

        testPropertyWithConfig config "a baseline on a pruned network is refused" <|
            Prop.forAll (arb (Gen.zip onlineDqnRun (Gen.elements [ "reset"; "redo" ]))) (fun (run, baseline) ->
                let pruned = { run with Sparsity = 0.5 }
                match resolveWith pruned "baseline" (Text baseline) with
                | Ok _ -> failtest "accepted"
                | Error e -> Expect.stringStarts e "baseline must be none, wd or l2 for a pruned network" "names the field")

        testPropertyWithConfig config "augmentation of vector observations is refused, naming the environment" <|
            Prop.forAll (arb onlineDqnRun) (fun run ->
                let vectors = { run with Env = "cartpole"; Network = NetworkKind.Mlp }
                match resolveWith vectors "augmentation" (Switch true) with
                | Ok _ -> failtest "accepted"
                | Error e -> Expect.stringStarts e "augmentation shifts image observations ([channels, height, width]); env cartpole gives [4]" "names the field and the env")

        testPropertyWithConfig config "unknown fields are refused by name" <|
            Prop.forAll (arb (Gen.elements [ "widht"; "learning-rate"; "Width"; ""; "foo" ])) (fun name ->
                match Resolution.resolve environments [ name, Number 1.0 ] with
                | Ok _ -> failtest "accepted"
                | Error e -> Expect.stringStarts e (sprintf "unknown field '%s'; the fields are format, agent, env" name) "names the key")

        testPropertyWithConfig config "replay ratios r and 1/k map onto the loop and read back; others are refused" <|
            Prop.forAll (arb (Gen.zip (Gen.choose (1, 64)) (Gen.choose (2, 1000)))) (fun (k, m) ->
                Expect.equal (ReplayRatio.schedule (float k)) (Ok(1, k)) "k updates every step"
                Expect.equal (ReplayRatio.schedule (1.0 / float k)) (Ok(k, 1)) "an update every k steps"
                let agent = { AgentConfig.minatarDqn with UpdatePeriod = k; UpdatesPerStep = 1 }
                Expect.equal (ReplayRatio.schedule (ReplayRatio.ofAgent agent)) (Ok(k, 1)) "read back"
                // m / (m + 1) lies strictly between 0 and 1 and is not 1/k.
                Expect.isError (ReplayRatio.schedule (float m / float (m + 1))) "refused"
                Expect.isError (ReplayRatio.schedule (float k + 0.5)) "refused")

        testPropertyWithConfig config "a replay ratio written 1/k, or a number written as text, sets the field as the number does" <|
            Prop.forAll (arb (Gen.zip (validRunOf [ AgentKind.Dqn; AgentKind.Rainbow; AgentKind.Der; AgentKind.Drq; AgentKind.Sac ]) (Gen.choose (1, 64)))) (fun (run, k) ->
                Expect.equal (RunFields.replayRatio (Text(sprintf "1/%d" k))) (Ok(1.0 / float k)) "1/k reads as the number 1/k"
                Expect.equal (RunFields.replayRatio (Text(sprintf " %d " k))) (Ok(float k)) "a whole number as text"
                Expect.equal (resolveWith run "replay_ratio" (Text(sprintf "1/%d" k))) (resolveWith run "replay_ratio" (Number(1.0 / float k))) "1/k as 1/k's number"
                Expect.equal (resolveWith run "replay_ratio" (Text(sprintf "%d" k))) (resolveWith run "replay_ratio" (Number(float k))) "k as k"
                match resolveWith run "replay_ratio" (Text "1/4") with
                // config.json keeps the number.
                | Ok resolved -> Expect.equal ((RunFields.field "replay_ratio" |> orFail).Read resolved) (Number 0.25) "read back as 0.25"
                | Error _ -> ())

        testPropertyWithConfig config "a run agrees with its own fields, and a changed field is named" <|
            Prop.forAll (arb (Gen.zip validRun (Gen.elements [ "width", Number 7.0; "seed", Number 123456789.0; "env", Text "acrobot"; "agent", Text "rainbow"; "steps", Number 1e7 ]))) (fun (run, (name, value)) ->
                Expect.equal (Resolution.agrees run (RunFields.toFields run)) (Ok()) "agrees with itself"
                Expect.equal (Resolution.agrees run [ "device", Text "cpu" ]) (Ok()) "the device may change"
                let changed = RunFields.apply [ name, value ] run |> orFail
                if changed <> run then
                    match Resolution.agrees run [ name, value ] with
                    | Ok() -> failtest "a changed field agreed"
                    | Error e -> Expect.stringStarts e (name + ": the run holds") "names the field")

        testPropertyWithConfig config "a grid has one run per combination, every name distinct" <|
            Prop.forAll (arb grid) (fun axes ->
                let runs = Sweep.plan environments axes |> orFail
                Expect.equal runs.Length (axes |> List.map (snd >> List.length) |> List.fold (*) 1) "size = product of the axes' lengths"
                Expect.equal (runs |> List.map fst |> List.distinct |> List.length) runs.Length "names are unique"
                Expect.equal (runs |> List.map snd |> List.distinct |> List.length) runs.Length "configs are distinct"
                for name, run in runs do
                    Expect.isTrue (name |> Seq.forall (fun ch -> Char.IsAsciiLetterOrDigit ch || "._-".Contains ch)) (sprintf "%s is a plain folder name" name)
                    Expect.stringStarts name (sprintf "%s_w" (run.Env.Replace('/', '-'))) "starts with the environment"
                    if List.length (axes |> List.find (fst >> (=) "replay_ratio") |> snd) > 1 then
                        Expect.stringContains name "_replay_ratio-" "a varied field beyond the standard five is named"
                    if List.length (axes |> List.find (fst >> (=) "agent") |> snd) > 1 then
                        Expect.stringContains name (sprintf "_agent-%s" (Choices.agents |> List.find (snd >> (=) run.Agent) |> fst)) "a varied agent is named")

        testPropertyWithConfig config "a sweep of one grid without grids of its own is exactly today's plan" <|
            Prop.forAll (arb grid) (fun axes ->
                Expect.equal (Sweep.planGrids environments axes [ [] ]) (Sweep.plan environments axes) "no grids"
                // A bad point too: the same error, without a grid's number.
                let bad = axes @ [ "prune_every", [ Number 0.0 ] ]
                Expect.equal (Sweep.planGrids environments bad [ [] ]) (Sweep.plan environments bad) "the same error")

        testPropertyWithConfig config "a union of grids runs each grid over the shared axes, in grid order, every name distinct" <|
            Prop.forAll (arb grids) (fun (shared, gridList) ->
                let runs = Sweep.planGrids environments shared gridList |> orFail
                // A grid's own field replaces the shared one of its name.
                let merged = gridList |> List.map (fun g -> g @ (shared |> List.filter (fun (n, _) -> not (List.exists (fst >> (=) n) g))))
                let sizes = merged |> List.map (List.map (snd >> List.length) >> List.fold (*) 1)
                Expect.equal runs.Length (List.sum sizes) "size = sum of the grids' products"
                Expect.equal (runs |> List.map fst |> List.distinct |> List.length) runs.Length "names are unique across the union"
                let firstIsSac = (List.head gridList |> List.find (fst >> (=) "agent") |> snd) = [ Text "sac" ]
                let agentsInOrder = runs |> List.map (fun (_, c) -> c.Agent = AgentKind.Sac)
                Expect.equal agentsInOrder (List.replicate sizes[0] firstIsSac @ List.replicate sizes[1] (not firstIsSac)) "runs in grid order"
                for name, run in runs do
                    Expect.stringContains name (sprintf "_agent-%s" (Choices.agents |> List.find (snd >> (=) run.Agent) |> fst)) "the agents differ across grids, so names carry them"
                    Expect.stringStarts name (sprintf "%s_w" (run.Env.Replace('/', '-'))) "starts with the environment"
                    match gridList |> List.tryPick (List.tryFind (fst >> (=) "seed")) with
                    | Some(_, [ Number own ]) when run.Agent <> AgentKind.Sac -> Expect.equal run.Seed (int64 own) "the grid's seed replaces the shared ones"
                    | _ -> ())

        test "a union of grids refuses no grids, a bad point naming its grid, and a run given twice" {
            let cartpole = [ "env", [ Text "cartpole" ] ]
            Expect.equal (Sweep.planGrids environments [] []) (Error "grids lists no grids: give at least one object of run fields") "no grids"
            match Sweep.planGrids environments [ "width", [ Number 1.0; Number 2.0 ] ] [ cartpole; [ "env", [ Text "acrobot"; Text "pendulum" ] ] ] with
            | Ok _ -> failtest "accepted dqn on pendulum"
            | Error e ->
                Expect.stringStarts e "grid 2: env must have discrete actions for agent dqn" "names the grid"
                Expect.stringEnds e "(at env 'pendulum', width 1)" "names the point"
            Expect.equal (Sweep.planGrids environments [ "width", [ Number 1.0; Number 2.0 ] ] [ cartpole; [ "env", [ Text "acrobot"; Text "cartpole" ] ] ])
                (Error "grid 2 gives the run cartpole_w1_s0.95_none_seed0 that grid 1 gives already: leave it out of one") "the same run twice"
            Expect.equal (Sweep.planGrids environments [ "seed", [ Number 1.0 ] ] [ cartpole; [ "seed", [ Number 2.0 ] ] ] |> Result.map (List.map fst))
                (Ok [ "cartpole_w2_s0.95_none_seed1"; "cartpole_w2_s0.95_none_seed2" ]) "a grid's seed replaces the shared one; a field the grids give alike stays out of the names"
        }

        testPropertyWithConfig config "an axis without values or with a repeated value is refused by name" <|
            Prop.forAll (arb (Gen.elements [ "width"; "seed"; "sparsity" ])) (fun name ->
                Expect.equal (Sweep.expand [ name, [] ]) (Error(sprintf "%s lists no values" name)) "empty"
                Expect.equal (Sweep.expand [ name, [ Number 1.0; Number 1.0 ] ]) (Error(sprintf "%s lists 1 twice" name)) "repeated")
    ]
