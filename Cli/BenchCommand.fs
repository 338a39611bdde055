/// `prunerl bench`: benchmarks that print figures (speed targets live here, never in timed tests).
/// Parse, validate, call the measurements in Prunerl.Agents, report.
module Prunerl.Cli.BenchCommand

open System
open System.Globalization
open Argu
open Prunerl.Core
open Prunerl.Agents.Networks
open Prunerl.Agents.Runtime
open Prunerl.Agents.Training
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
    | Steps of count: int64
    | Threads of count: int
    | Repeats of count: int
    | Device of name: string

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
    | Device of name: string

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
    | Steps of count: int64
    | Width of multiplier: float

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Steps _ -> "agent steps that fill the replay before the checkpoint (default 100000)."
            | Width _ -> "width multiplier of the MinAtar network (default 1)."

type BenchArgs =
    | [<CliPrefix(CliPrefix.None)>] Envs of ParseResults<BenchEnvsArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<BenchTrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Update of ParseResults<BenchUpdateArgs>
    | [<CliPrefix(CliPrefix.None)>] Checkpoint of ParseResults<BenchCheckpointArgs>

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Envs _ -> "environment steps per second on one core, single and vectorised, and bytes allocated per step."
            | Train _ -> "DQN training steps per second (acting, replay, one batch-32 update per step), dense and pruned, per network and width."
            | Update _ -> "where a training update's time goes (forward, backward, optimizer, pruner) per network, width and thread count."
            | Checkpoint _ -> "a training run's checkpoint: its size and the time to save and to load it (MinAtar Breakout and CartPole, replay filled)."

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
        | "minatar" -> Some TorsoKind.MinAtar
        | "impala" -> Some TorsoKind.Impala
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
        let single = Prunerl.Agents.Envs.EnvironmentBenchmark.Single(id, duration)
        let vector = Prunerl.Agents.Envs.EnvironmentBenchmark.Vectorised(id, copies, duration)
        printfn "  %-24s  %16.0f  %12.2f  %22.0f  %12.2f" id single.StepsPerSecond single.BytesPerStep vector.StepsPerSecond vector.BytesPerStep
    0

let private train (args: ParseResults<BenchTrainArgs>) =
    let id = minatarGame "train" (args.GetResult(BenchTrainArgs.Env, "minatar/breakout"))
    let networks = networksOf (args.GetResult(BenchTrainArgs.Networks, "minatar,impala"))
    let widths = widthsOf (args.GetResult(BenchTrainArgs.Widths, "1,4"))
    let steps = args.GetResult(BenchTrainArgs.Steps, 3000L)
    let repeats = args.GetResult(Repeats, 1)
    let threads = args.TryGetResult BenchTrainArgs.Threads
    Validate.atLeast "steps" 200L steps |> orFail |> ignore
    Validate.atLeast "repeats" 1L (int64 repeats) |> orFail |> ignore
    threads |> Option.iter (fun t -> Validate.atLeast "threads" 1L (int64 t) |> orFail |> ignore)
    loadTorch ()
    let device = TrainCommand.deviceNamed (args.GetResult(BenchTrainArgs.Device, "cpu"))
    printfn "DQN on %s, batch 32, one update per step, %d steps per run, fastest of %d, on %s; pruned: 90%% on the paper's schedule"
        id steps repeats (TorchRuntime.Name device)
    printfn "  %-8s  %6s  %7s  %10s  %14s  %22s  %16s" "network" "width" "threads" "parameters" "dense steps/s" "pruned 90% steps/s" "pruner overhead"
    for torso in networks do
        for width in widths do
            let network = NetworkSpec(torso, Width = width)
            let parameters = TorchThreads.ParameterCount(id, network)
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
    let device = TrainCommand.deviceNamed (args.GetResult(BenchUpdateArgs.Device, "cpu"))
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
    let steps = args.GetResult(BenchCheckpointArgs.Steps, 100_000L)
    let width = args.GetResult(BenchCheckpointArgs.Width, 1.0)
    Validate.atLeast "steps" 1L steps |> orFail |> ignore
    Validate.positive "width" width |> orFail |> ignore
    loadTorch ()
    TorchSharp.torch.set_num_threads 1
    printfn "Checkpoints after %d agent steps (the replay filled, no learning), one torch thread" steps
    printfn "  %-18s  %-18s  %10s  %13s  %8s  %8s" "environment" "network" "replay" "checkpoint MB" "save s" "load s"
    let cases =
        [ "minatar/breakout", AgentConfig.minatarDqn, NetworkSpec(TorsoKind.MinAtar, Width = width), sprintf "MinAtar x%g" width
          "cartpole", AgentConfig.cartpoleDqn, NetworkSpec(TorsoKind.Mlp, Width = 2.0, MlpHidden = [| 128; 128 |]), "MLP 128-128 x2" ]
    for id, agent, network, name in cases do
        let directory = IO.Path.Combine(IO.Path.GetTempPath(), "prunerl-bench-checkpoint-" + Guid.NewGuid().ToString("N"))
        try
            let spec = TrainingSpec(id, { agent with MinReplay = steps }, network, steps, 0L)
            let cost = TrainingBenchmark.MeasureCheckpoint(spec, directory)
            printfn "  %-18s  %-18s  %10d  %13.1f  %8.3f  %8.3f" id name cost.ReplayHeld (float cost.Bytes / 1e6) cost.SaveSeconds cost.LoadSeconds
        finally
            if IO.Directory.Exists directory then IO.Directory.Delete(directory, true)
    0

let run (args: ParseResults<BenchArgs>) : int =
    match args.GetSubCommand() with
    | Envs a -> envs a
    | Train a -> train a
    | Update a -> update a
    | Checkpoint a -> checkpoint a
