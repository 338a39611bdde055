/// `prunerl bench`: benchmarks that print figures (speed targets live here, never in timed tests).
/// Parse, validate, call the measurements in Prunerl.Agents, report.
module Prunerl.Cli.BenchCommand

open System
open System.Globalization
open Argu
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Networks
open Prunerl.Agents.Runtime
open Prunerl.Agents.Training
open Prunerl.Agents.Benchmarks
open Prunerl.Cli.UserError

type BenchEnvsArgs =
    | [<AltCommandLine("-e")>] Env of id: string
    | Seconds of seconds: float
    | Copies of count: int

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Env _ -> "environment id to measure (repeatable; default: all registered)."
            | Seconds _ -> "seconds of measurement per environment and form (default 2)."
            | Copies _ -> "copies stepped together in the vectorised form (default 64)."

type BenchTrainArgs =
    | Env of id: string
    | Networks of names: string
    | Widths of multipliers: string
    | Steps of count: string
    | Threads of count: int
    | Repeats of count: int
    | Device of DeviceKind

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Env _ -> "MinAtar game to train on (default minatar/breakout)."
            | Networks _ -> "comma-separated networks: minatar (conv 16, dense 128), impala (the ResNet) (default minatar,impala)."
            | Widths _ -> "comma-separated width multipliers (default 1,4)."
            | Steps _ -> "agent steps per run (default 3000)."
            | Threads _ -> "torch threads (default: chosen per network size, as prunerl train does)."
            | Repeats _ -> "runs of each of dense and pruned, alternating; the fastest counts (default 1)."
            | Device _ -> "where the runs train: cpu, cuda or auto (default cpu)."

type BenchUpdateArgs =
    | Env of id: string
    | Networks of names: string
    | Widths of multipliers: string
    | Threads of counts: string
    | Seconds of seconds: float
    | Device of DeviceKind

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Env _ -> "MinAtar game whose transitions are replayed (default minatar/breakout)."
            | Networks _ -> "comma-separated networks: minatar, impala (default minatar,impala)."
            | Widths _ -> "comma-separated width multipliers (default 1,4)."
            | Threads _ -> "comma-separated torch thread counts to compare (default 1,2)."
            | Seconds _ -> "seconds of updates per agent and setting (default 2)."
            | Device _ -> "where the agents update: cpu, cuda or auto (default cpu); off the CPU both optimizer forms take torch ops."

type BenchCheckpointArgs =
    | Steps of count: string
    | Width of multiplier: float

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Steps _ -> "agent steps that fill the replay before the checkpoint (default 100000)."
            | Width _ -> "width multiplier of the MinAtar network (default 1)."

type BenchAgentsArgs =
    | Agents of names: string
    | Steps of count: string
    | Repeats of count: int
    | Width of multiplier: float
    | Device of DeviceKind

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Agents _ -> "comma-separated agents: dqn, der, drq, sac, cql, cql-c51 (default all)."
            | Steps _ -> "timed agent steps per run, for every row (default per agent, printed: about 4 minutes in all)."
            | Repeats _ -> "runs of each of dense and pruned, alternating; the fastest counts (default 1)."
            | Width _ -> "width multiplier of every network (default each run's own, as prunerl train resolves it: 1, CartPole's MLP 2)."
            | Device _ -> "where the runs train: cpu, cuda or auto (default cpu)."

type BenchMethodsArgs =
    | Repeats of count: int

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Repeats _ -> "timed blocks per phase; the median counts (default 5)."

type BenchArgs =
    | [<CliPrefix(CliPrefix.None)>] Envs of ParseResults<BenchEnvsArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<BenchTrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Agents of ParseResults<BenchAgentsArgs>
    | [<CliPrefix(CliPrefix.None)>] Update of ParseResults<BenchUpdateArgs>
    | [<CliPrefix(CliPrefix.None)>] Checkpoint of ParseResults<BenchCheckpointArgs>
    | [<CliPrefix(CliPrefix.None)>] Methods of ParseResults<BenchMethodsArgs>

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Envs _ -> "environment steps per second on one core, single and vectorised, and bytes allocated per step."
            | Train _ -> "DQN training steps per second (acting, replay, one batch-32 update per step), dense and pruned, per network and width."
            | Agents _ -> "training steps per second of every agent family (dqn, der, drq, sac, cql, cql-c51) through prunerl train's loop, dense and pruned."
            | Update _ -> "where a training update's time goes (forward, backward, optimizer, pruner) per network, width and thread count."
            | Checkpoint _ -> "a training run's checkpoint: its size and the time to save and to load it (MinAtar Breakout and CartPole, replay filled)."
            | Methods _ -> "the sparse-training methods' cost per update against dense (static, lottery, SET, RigL at 95% ERK) on MinAtar x1, x3 and SAC's 256-256."

/// Comma-separated values, each parsed or refused with a one-line error naming the field.
let private listOf (field: string) (what: string) (parse: string -> 'a option) (text: string) =
    text.Split(',')
    |> Array.map (fun item ->
        match parse (item.Trim()) with
        | Some x -> x
        | None -> raise (UserError(sprintf "%s must be %s, separated by commas, got '%s'" field what item)))

let private widthsOf =
    listOf "widths" "positive numbers" (fun w ->
        match Double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, x when x > 0.0 -> Some x
        | _ -> None)

let private networksOf =
    listOf "networks" "minatar or impala" (function
        | "minatar" -> Some NetworkKind.MinAtar
        | "impala" -> Some NetworkKind.Impala
        | _ -> None)

let private threadCountsOf =
    listOf "threads" "whole numbers >= 1" (fun t ->
        match Int32.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture) with
        | true, n when n >= 1 -> Some n
        | _ -> None)

let private minatarGame (command: string) (id: string) =
    if not (id.StartsWith "minatar/") then raise (UserError(sprintf "bench %s runs on MinAtar games, got '%s'" command id))
    createEnvironment id |> ignore
    id

let private loadTorch () =
    match TorchRuntime.TryLoad() with
    | false, error -> raise (UserError error)
    | true, _ -> ()

/// The MinAtar DQN learning after 100 steps, so that almost every measured step carries an update.
let private benchAgent = { AgentConfig.minatarDqn with MinReplay = 100L }

let private envs (args: ParseResults<BenchEnvsArgs>) =
    // By default every environment that can run here; one named explicitly must be able to.
    let ids, skipped =
        match args.GetResults BenchEnvsArgs.Env with
        | [] ->
            let entries = Prunerl.Agents.Envs.EnvironmentRegistry.Entries
            [ for e in entries do if isNull e.UnavailableReason then e.Id ],
            [ for e in entries do if not (isNull e.UnavailableReason) then e.Id, e.UnavailableReason ]
        | ids -> ids, []
    let seconds = args.GetResult(BenchEnvsArgs.Seconds, 2.0)
    let copies = args.GetResult(Copies, 64)
    if not (seconds > 0.0) then raise (UserError(sprintf "seconds must be > 0, got %g" seconds))
    if copies < 1 then raise (UserError(sprintf "copies must be >= 1, got %d" copies))
    for id in ids do createEnvironment id |> ignore
    let duration = TimeSpan.FromSeconds seconds
    for id, reason in skipped do printfn "Skipping %s: %s" id reason
    printfn "Environment steps on one thread, random actions, observations written every step (%g s each)" seconds
    printfn "  %-24s  %16s  %12s  %22s  %12s" "environment" "single steps/s" "bytes/step" (sprintf "vectorised x%d steps/s" copies) "bytes/step"
    for id in ids do
        let single = Prunerl.Agents.Benchmarks.EnvironmentBenchmark.Single(id, duration)
        let vector = Prunerl.Agents.Benchmarks.EnvironmentBenchmark.Vectorised(id, copies, duration)
        printfn "  %-24s  %16.0f  %12.2f  %22.0f  %12.2f" id single.StepsPerSecond single.BytesPerStep vector.StepsPerSecond vector.BytesPerStep
    0

let private train (args: ParseResults<BenchTrainArgs>) =
    let id = minatarGame "train" (args.GetResult(BenchTrainArgs.Env, "minatar/breakout"))
    let networks = networksOf (args.GetResult(BenchTrainArgs.Networks, "minatar,impala"))
    let widths = widthsOf (args.GetResult(BenchTrainArgs.Widths, "1,4"))
    let steps = args.TryGetResult BenchTrainArgs.Steps |> Option.map (count "steps") |> Option.defaultValue 3000L
    let repeats = args.GetResult(BenchTrainArgs.Repeats, 1)
    let threads = args.TryGetResult BenchTrainArgs.Threads
    Validate.atLeast "steps" 200L steps |> orFail |> ignore
    Validate.atLeast "repeats" 1L (int64 repeats) |> orFail |> ignore
    threads |> Option.iter (fun t -> Validate.atLeast "threads" 1L (int64 t) |> orFail |> ignore)
    loadTorch ()
    let device = RunInputs.resolveDevice (args.GetResult(BenchTrainArgs.Device, DeviceKind.Cpu))
    printfn "DQN on %s, batch 32, one update per step, %d steps per run, fastest of %d, on %s; pruned: 90%% on the paper's schedule"
        id steps repeats (TorchRuntime.Name device)
    printfn "  %-8s  %6s  %7s  %10s  %14s  %22s  %16s" "network" "width" "threads" "parameters" "dense steps/s" "pruned 90% steps/s" "pruner overhead"
    for torso in networks do
        for width in widths do
            let network = NetworkSpec(torso, Width = width)
            let parameters = QNetwork.ParameterCount(id, network)
            let used = defaultArg threads (TorchThreads.For parameters)
            TorchSharp.torch.set_num_threads used
            let speed =
                TrainingBenchmark.Measure(
                    id, network, benchAgent, PruningRequest(Schedule.paperSpec 0.9, LayerWise Uniform, Sparsity.paperScope), steps, repeats,
                    device = device)
            printfn "  %-8O  %6g  %7d  %10d  %14.0f  %22.0f  %15.1f%%" torso width used parameters speed.DenseStepsPerSecond speed.PrunedStepsPerSecond (100.0 * speed.PruningOverhead)
    0

let private update (args: ParseResults<BenchUpdateArgs>) =
    let id = minatarGame "update" (args.GetResult(BenchUpdateArgs.Env, "minatar/breakout"))
    let networks = networksOf (args.GetResult(BenchUpdateArgs.Networks, "minatar,impala"))
    let widths = widthsOf (args.GetResult(BenchUpdateArgs.Widths, "1,4"))
    let threadCounts = threadCountsOf (args.GetResult(BenchUpdateArgs.Threads, "1,2"))
    let seconds = args.GetResult(BenchUpdateArgs.Seconds, 2.0)
    if not (seconds > 0.0) then raise (UserError(sprintf "seconds must be > 0, got %g" seconds))
    loadTorch ()
    let device = RunInputs.resolveDevice (args.GetResult(BenchUpdateArgs.Device, DeviceKind.Cpu))
    printfn "One DQN update (batch 32, centered RMSProp) on %s transitions on %s, dense and pruned to 90%%: median microseconds" id (TorchRuntime.Name device)
    printfn "per update over blocks of 10. forward, backward: the dense agent's; optimizer: dense/pruned step, fused (the pruner's"
    printfn "mask rides in it) and as torch ops (with a gradient mask multiply when pruned); overhead: pruned over dense with one"
    printfn "mask recomputation (recompute) per 1000 updates, fused and torch ops; act: one action at batch 1; sample: one batch"
    printfn "  %-7s %5s %3s %8s %6s %7s %7s %13s %13s %7s %7s %6s %6s %9s %6s %6s"
        "network" "width" "thr" "params" "upd" "forward" "backwrd" "optim fused" "optim ops" "dense" "pruned" "ovhd" "ovhd-op" "recompute" "act" "sample"
    for torso in networks do
        for width in widths do
            for threads in threadCounts do
                TorchSharp.torch.set_num_threads threads
                let b = UpdateBenchmark.Measure(id, NetworkSpec(torso, Width = width), benchAgent, threads, seconds, device = device)
                printfn "  %-7O %5g %3d %8d %6d %7.0f %7.0f %6.0f/%-6.0f %6.0f/%-6.0f %7.0f %7.0f %5.1f%% %6.1f%% %9.0f %6.0f %6.0f"
                    torso width threads b.Parameters b.Updates b.Dense.Forward b.Dense.Backward b.Dense.Optimizer b.Pruned.Optimizer
                    b.DenseTorchOps.Optimizer b.PrunedTorchOps.Optimizer b.Dense.Total b.Pruned.Total
                    (100.0 * b.PruningOverhead) (100.0 * b.TorchOpsPruningOverhead) b.MaskRecompute b.Act b.Sample
                if Environment.GetEnvironmentVariable "PRUNERL_PHASES" = "1" then
                    for name, p in [ "dense", b.Dense; "pruned", b.Pruned; "dense-ops", b.DenseTorchOps; "pruned-ops", b.PrunedTorchOps ] do
                        printfn "      %-10s %A" name p
    0

let private checkpoint (args: ParseResults<BenchCheckpointArgs>) =
    let steps = args.TryGetResult BenchCheckpointArgs.Steps |> Option.map (count "steps") |> Option.defaultValue 100_000L
    let width = args.GetResult(BenchCheckpointArgs.Width, 1.0)
    Validate.atLeast "steps" 1L steps |> orFail |> ignore
    Validate.positive "width" width |> orFail |> ignore
    loadTorch ()
    TorchSharp.torch.set_num_threads 1
    printfn "Checkpoints after %d agent steps (the replay filled, no learning), one torch thread" steps
    printfn "  %-18s  %-18s  %10s  %13s  %8s  %8s" "environment" "network" "replay" "checkpoint MB" "save s" "load s"
    let cases =
        [ "minatar/breakout", AgentConfig.minatarDqn, NetworkSpec(NetworkKind.MinAtar, Width = width), sprintf "MinAtar x%g" width
          "cartpole", AgentConfig.cartpoleDqn, NetworkSpec(NetworkKind.Mlp, Width = 2.0, MlpHidden = Array.ofList Presets.dqnMlpHidden), "MLP 128-128 x2" ]
    for id, agent, network, name in cases do
        let directory = IO.Path.Combine(IO.Path.GetTempPath(), "prunerl-bench-checkpoint-" + Guid.NewGuid().ToString("N"))
        try
            let spec = RunSpec(id, DqnFamily { agent with MinReplay = steps }, network, steps, 0L)
            let cost = TrainingBenchmark.MeasureCheckpoint(spec, directory)
            printfn "  %-18s  %-18s  %10d  %13.1f  %8.3f  %8.3f" id name cost.ReplayHeld (float cost.Bytes / 1e6) cost.SaveSeconds cost.LoadSeconds
        finally
            if IO.Directory.Exists directory then IO.Directory.Delete(directory, true)
    0

/// The rows of `bench agents`: an agent, the environment it trains on, and its timed steps per run by
/// default: about 15 s a run at the speeds measured on this project's 2-core machine with other builds
/// running (steps/s: dqn 740, der 335, drq 500, sac 100 on Pendulum and 85 on HalfCheetah, cql 1000,
/// cql-c51 655), so that the whole default bench, dense and pruned, takes about 4 minutes (4 min 2 s there).
let private agentRows =
    [ AgentKind.Dqn, "minatar/breakout", 15_000L
      AgentKind.Der, "minatar/breakout", 6000L
      AgentKind.Drq, "minatar/breakout", 8000L
      AgentKind.Sac, "pendulum", 1500L
      AgentKind.Sac, "mujoco/halfcheetah", 1500L
      AgentKind.Cql, "cartpole", 15_000L
      AgentKind.Cql_C51, "cartpole", 12_000L ]

/// An agent's name as `prunerl train --agent` takes it.
let private agentName (kind: AgentKind) = Choices.nameIn Choices.agents kind

let private agentNames = agentRows |> List.map (fun (kind, _, _) -> agentName kind) |> List.distinct

/// Steps of the DQN run on CartPole whose experience the offline agents learn from.
let private datasetSteps = 2000L

/// The run `prunerl train --agent <agent> --env <env>` resolves (the family's defaults), with what a timed
/// run changes: its steps and sparsity, no evaluations, analyses or checkpoints, and the given fields.
let private benchRun (kind: AgentKind) (env: string) (steps: int64) (sparsity: float) (fields: (string * FieldValue) list) : RunConfig =
    [ "agent", Text(agentName kind); "env", Text env; "steps", Number(float steps); "sparsity", Number sparsity
      "eval_every", Number 0.0; "analyse_every", Number 0.0; "checkpoint_every", Number 0.0 ]
    @ fields
    |> List.filter (fst >> RunFields.appliesTo kind)
    |> Resolution.resolve TrainingRun.Environments
    |> Result.mapError (sprintf "bench agents, %s on %s: %s" (agentName kind) env)
    |> orFail

/// Records the offline agents' dataset: a short DQN run on CartPole (its defaults; learning from step 1000).
let private recordDataset (directory: string) (device: TorchSharp.torch.Device) : string =
    IO.Directory.CreateDirectory directory |> ignore
    let file = RunFolder.datasetPath directory
    let config = benchRun AgentKind.Dqn "cartpole" datasetSteps 0.0 [ "record_dataset", Switch true ]
    TorchSharp.torch.set_num_threads (TrainingRun.DefaultThreads config)
    TrainingRun.Run(config, RunHooks(Dataset = file, Device = device)) |> ignore
    file

/// A run's network as a person names it: minatar, or mlp with its hidden sizes.
let private networkName (c: RunConfig) =
    let spec = TrainingRun.Network c
    let name = Choices.nameIn Choices.networks c.Network
    match spec.MlpHidden with
    | null -> name
    | hidden -> name + " " + (hidden |> Array.map string |> String.concat "-")

let private agents (args: ParseResults<BenchAgentsArgs>) =
    let chosen =
        args.GetResult(BenchAgentsArgs.Agents, String.concat "," agentNames)
        |> listOf "agents" (String.concat ", " (List.take (agentNames.Length - 1) agentNames) + " or " + List.last agentNames) (fun name -> if List.contains name agentNames then Some name else None)
    let steps = args.TryGetResult BenchAgentsArgs.Steps |> Option.map (count "steps")
    let repeats = args.GetResult(BenchAgentsArgs.Repeats, 1)
    let width = args.TryGetResult BenchAgentsArgs.Width
    steps |> Option.iter (fun n -> Validate.atLeast "steps" 1L n |> orFail |> ignore)
    Validate.atLeast "repeats" 1L (int64 repeats) |> orFail |> ignore
    width |> Option.iter (fun w -> Validate.positive "width" w |> orFail |> ignore)
    loadTorch ()
    let device = RunInputs.resolveDevice (args.GetResult(BenchAgentsArgs.Device, DeviceKind.Cpu))
    let available, skipped =
        agentRows
        |> List.filter (fun (kind, _, _) -> Array.contains (agentName kind) chosen)
        |> List.partition (fun (_, env, _) -> (TrainingRun.Environments |> List.find (fun e -> e.Id = env)).Unavailable.IsNone)
    for kind, env, _ in skipped do
        let reason = (TrainingRun.Environments |> List.find (fun e -> e.Id = env)).Unavailable.Value
        printfn "Skipping %s on %s: %s" (agentName kind) env reason
    let widthField = width |> Option.map (fun w -> "width", Number w) |> Option.toList
    let offline = available |> List.exists (fun (kind, _, _) -> RunConfig.isOffline kind)
    let directory = IO.Path.Combine(IO.Path.GetTempPath(), "prunerl-bench-agents-" + Guid.NewGuid().ToString("N"))
    try
        let dataset = if offline then Some(recordDataset directory device) else None
        // Every agent's default schedule is the same (Presets.defaults); the first row's stands for them.
        let schedule =
            match available with
            | (kind, env, _) :: _ ->
                let d = Presets.defaults env kind
                let ramp = match d.Ramp with RampKind.Polynomial -> sprintf "polynomial power %g" d.Power | RampKind.Linear -> "linear" | RampKind.Cosine -> "cosine"
                sprintf "%s, %s, %g%%-%g%% of its updates, masks every %d"
                    (Choices.nameIn Choices.distributions d.Distribution) ramp (100.0 * d.PruneStart) (100.0 * d.PruneEnd) d.PruneEvery
            | [] -> "none to run"
        printfn "Agent steps per second of whole training runs through prunerl train's loop, each agent's default run for its"
        printfn "environment: dense, and pruned to 90%% on the run's schedule (%s);" schedule
        printfn "the fastest of %d of each, on %s, torch threads as prunerl train picks them. Online agents learn after a" repeats (TorchRuntime.Name device)
        printfn "warm-up of one batch (min_replay = batch size; timed, not counted as steps); no evaluations, analyses or"
        printfn "checkpoints. cql, cql-c51: a step is a gradient update, on a dataset recorded first (untimed) by a %d-step dqn" datasetSteps
        printfn "run on cartpole."
        printfn "  %-8s %-18s %-12s %5s %7s %8s %6s %13s %14s %8s %9s %8s"
            "agent" "environment" "network" "width" "threads" "upd/step" "steps" "dense steps/s" "pruned steps/s" "dense ms" "pruned ms" "overhead"
        for kind, env, defaultSteps in available do
            let timed = defaultArg steps defaultSteps
            let config sparsity =
                match dataset with
                | Some file when RunConfig.isOffline kind -> benchRun kind env timed sparsity (("dataset", Text file) :: widthField)
                | _ ->
                    // Learning starts once the replay holds one batch; the run is that warm-up and the timed steps.
                    let defaults = Presets.defaults env kind
                    let batch = if kind = AgentKind.Sac then defaults.Sac.BatchSize else defaults.Hyperparameters.BatchSize
                    benchRun kind env (int64 batch + timed) sparsity (("min_replay", Number(float batch)) :: widthField)
            let dense, pruned = config 0.0, config 0.9
            let threads = TrainingRun.DefaultThreads dense
            TorchSharp.torch.set_num_threads threads
            let hooks = RunHooks(Device = device)
            let speed = TrainingBenchmark.DenseAgainstPruned(timed, repeats, fun isPruned -> TrainingRun.Run((if isPruned then pruned else dense), hooks) |> ignore)
            printfn "  %-8s %-18s %-12s %5g %7d %8g %6d %13.1f %14.1f %8.2f %9.2f %7.1f%%"
                (agentName kind) env (networkName dense) dense.Width threads (RunConfig.replayRatio dense) timed speed.DenseStepsPerSecond speed.PrunedStepsPerSecond
                (1000.0 / speed.DenseStepsPerSecond) (1000.0 / speed.PrunedStepsPerSecond) (100.0 * speed.PruningOverhead)
    finally
        if IO.Directory.Exists directory then IO.Directory.Delete(directory, true)
    0

let private methods (args: ParseResults<BenchMethodsArgs>) =
    let repeats = args.GetResult(BenchMethodsArgs.Repeats, 5)
    Validate.atLeast "repeats" 1L (int64 repeats) |> orFail |> ignore
    loadTorch ()
    TorchSharp.torch.set_num_threads 1
    printfn "Sparse training's cost per update at 95%% (ERK), one torch thread, batch 32, Adam; the median of %d blocks." repeats
    printfn "masked: a static mask's (lottery ticket's) update; a rewiring amortised at JaxPruner's period of %d updates." MethodCosts.RewiringPeriod
    printfn "  %-20s %10s %9s %9s %9s %9s %9s %9s %9s" "network" "params" "dense us" "masked us" "SET us" "RigL us" "static" "SET" "RigL"
    for name, spec, observation, outputs in MethodBenchmark.PaperNetworks do
        let c = MethodBenchmark.Measure(name, spec, observation, outputs, repeats)
        printfn "  %-20s %10d %9.0f %9.0f %9.0f %9.0f %8.1f%% %8.1f%% %8.1f%%"
            c.Network c.Parameters c.Dense c.Masked c.SetRewiring c.RigLRewiring (100.0 * c.StaticOverhead) (100.0 * c.SetOverhead) (100.0 * c.RigLOverhead)
    0

let run (args: ParseResults<BenchArgs>) : int =
    match args.GetSubCommand() with
    | Envs a -> envs a
    | Train a -> train a
    | Agents a -> agents a
    | Update a -> update a
    | Checkpoint a -> checkpoint a
    | Methods a -> methods a
