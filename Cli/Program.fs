/// The prunerl command line: parse, validate, call, report.
module Prunerl.Cli.Program

open System
open Argu
open Prunerl.Core
open Prunerl.Agents.Networks
open Prunerl.Agents.Pruning
open Prunerl.Agents.Runtime
open Prunerl.Cli.UserError

type DemoArgs =
    | Sparsity of fraction: float
    | Total_Steps of updates: int64
    | Device of name: string
    | Seed of seed: int64

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Sparsity _ -> "final sparsity in [0, 1) (default 0.9)."
            | Total_Steps _ -> "training length in gradual updates (default 2500000, Dopamine DQN's 10M agent steps / 4)."
            | Device _ -> "torch device: cpu, cuda or auto (default auto)."
            | Seed _ -> "seed of the network's initial weights (default 0)."

type EnvsArgs =
    | Render of id: string
    | Out of path: string
    | Frames of count: int
    | Every of steps: int
    | Seed of seed: int64

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Render _ -> "render this environment under a uniformly random policy instead of listing them."
            | Out _ -> "PNG file for the rendered strip (default <id>.png with '/' as '-')."
            | Frames _ -> "frames in the strip (default 8)."
            | Every _ -> "environment steps between frames (default 1)."
            | Seed _ -> "seed of the episode and of the random policy (default 0)."

type TrainArgs =
    | Env of id: string
    | Width of multiplier: float
    | Sparsity of fraction: float
    | Distribution of name: string
    | Steps of count: int64
    | Eval_Every of steps: int64
    | Stop_At of mean_return: float
    | Seed of seed: int64
    | Out of directory: string
    | Analyse_Every of steps: int64
    | Threads of count: int

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Threads _ -> "torch threads (default: 1 for a network under 500k parameters, else 2; see README, 'Benchmarks')."
            | Out _ -> "directory for the run's metrics: metrics.csv, metrics.jsonl and a TensorBoard event file (must not hold a run)."
            | Analyse_Every _ -> "agent steps between measurements of the network on a held-out batch (dormant neurons, srank, ...; default 0: none)."
            | Env _ -> "environment with discrete actions (default cartpole); see prunerl envs."
            | Width _ -> "width multiplier of every layer (default 2)."
            | Sparsity _ -> "final sparsity in [0, 1); 0 trains a dense network (default 0.9)."
            | Distribution _ -> "how sparsity spreads over layers: uniform or erk (default erk)."
            | Steps _ -> "agent steps (default 30000)."
            | Eval_Every _ -> "agent steps between greedy evaluations of 5 episodes (default 2500)."
            | Stop_At _ -> "stop once an evaluation's mean return reaches this."
            | Seed _ -> "seed of everything random in the run (default 0)."

[<RequireQualifiedAccess>]
type Command =
    | [<CliPrefix(CliPrefix.None)>] Demo of ParseResults<DemoArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Schedule of ParseResults<ScheduleCommand.ScheduleArgs>
    | [<CliPrefix(CliPrefix.None)>] Envs of ParseResults<EnvsArgs>
    | [<CliPrefix(CliPrefix.None)>] Bench of ParseResults<BenchCommand.BenchArgs>

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Demo _ -> "print the paper's pruning schedule and prune a small torch network along it."
            | Train _ -> "train a DQN agent, pruned gradually on the paper's schedule (or dense), and report how it learns."
            | Schedule _ -> "print any pruning schedule with its per-layer targets; write it as CSV, JSON or a PNG plot."
            | Envs _ -> "list the environments, or render one to a PNG strip."
            | Bench _ -> "benchmarks that print figures (speed and memory targets live here, not in tests)."

let private demo (args: ParseResults<DemoArgs>) =
    let sparsity = args.GetResult(DemoArgs.Sparsity, 0.9)
    let totalSteps = args.GetResult(Total_Steps, 2_500_000L)
    let request =
        match TorchRuntime.ParseDevice(args.GetResult(Device, "auto")) with
        | request, _ when request.HasValue -> request.Value
        | _, error -> raise (UserError error)
    let schedule = Schedule.gradual totalSteps (Schedule.paperSpec sparsity) |> orFail
    match TorchRuntime.TryLoad() with
    | false, error -> raise (UserError error)
    | true, _ -> ()
    let device =
        match TorchRuntime.Resolve(request) with
        | null, error -> raise (UserError error)
        | device, _ -> device

    match schedule with
    | Gradual g ->
        printfn "The paper's schedule: sparsity 0 -> %g, cubic, from update %d to %d of %d, masks every %d updates" g.Final g.Start g.End totalSteps g.UpdatePeriod
    | other -> printfn "Schedule: %A" other

    use network = new QNetwork(NetworkSpec(TorsoKind.Mlp, MlpHidden = [| 256; 256 |]), [| 4 |], 2, args.GetResult(DemoArgs.Seed, 0L), device)
    use pruner =
        match MagnitudePruner.TryCreate(network, schedule, LayerWise Uniform, Sparsity.paperScope) with
        | null, error -> raise (UserError error)
        | pruner, _ -> pruner
    let measuredSparsity () =
        let prunable = pruner.Measure() |> Seq.filter (fun p -> p.Pruned)
        1.0 - float (prunable |> Seq.sumBy (fun p -> p.NonZero)) / float (prunable |> Seq.sumBy (fun p -> p.Size))

    printfn ""
    printfn "Pruning a 4-256-256-2 MLP on %O along it (uniform over weight matrices, biases dense):" device
    printfn "  %10s  %16s  %18s" "update" "target sparsity" "measured on tensors"
    for step in Schedule.milestones 7 schedule do
        pruner.Update step |> ignore
        printfn "  %10d  %16.4f  %18.4f" step (Schedule.sparsityAt schedule step) (measuredSparsity ())

    printfn ""
    printfn "Per layer at the end of training:"
    printfn "  %-22s  %-12s  %8s  %8s  %8s" "parameter" "shape" "size" "non-zero" "sparsity"
    for p in pruner.Measure() do
        let shape = p.Shape |> Array.map string |> String.concat "x"
        printfn "  %-22s  %-12s  %8d  %8d  %8.4f" p.Name shape p.Size p.NonZero p.Sparsity
    let final = Plan.at pruner.Plan totalSteps
    printfn "  %-22s  %-12s  %8d  %8d  %8.4f" "total" "" final.TotalSize final.NonZero (1.0 - float final.NonZero / float final.TotalSize)
    0

/// The agent and network a run on this environment starts from: MinAtar's DQN and network for MinAtar,
/// the CartPole DQN and a 128-128 MLP for classic control.
let private presetFor (id: string) (width: float) =
    if id.StartsWith "minatar/" then AgentConfig.minatarDqn, NetworkSpec(TorsoKind.MinAtar, Width = width)
    else AgentConfig.cartpoleDqn, NetworkSpec(TorsoKind.Mlp, Width = width, MlpHidden = [| 128; 128 |])

let private train (args: ParseResults<TrainArgs>) =
    let id = args.GetResult(TrainArgs.Env, "cartpole")
    let width = args.GetResult(TrainArgs.Width, 2.0)
    let sparsity = args.GetResult(TrainArgs.Sparsity, 0.9)
    let steps = args.GetResult(Steps, 30_000L)
    let evalEvery = args.GetResult(Eval_Every, 2500L)
    let analyseEvery = args.GetResult(Analyse_Every, 0L)
    let seed = args.GetResult(TrainArgs.Seed, 0L)
    let allocation =
        match args.GetResult(Distribution, "erk") with
        | "erk" -> LayerWise(Erk 1.0)
        | "uniform" -> LayerWise Uniform
        | other -> raise (UserError(sprintf "distribution must be uniform or erk, got '%s'" other))
    Validate.inHalfOpen "sparsity" 0.0 1.0 sparsity |> orFail |> ignore
    Validate.positive "width" width |> orFail |> ignore
    Validate.atLeast "steps" 1L steps |> orFail |> ignore
    Validate.atLeast "eval_every" 1L evalEvery |> orFail |> ignore
    Validate.atLeast "analyse_every" 0L analyseEvery |> orFail |> ignore
    args.TryGetResult TrainArgs.Threads |> Option.iter (fun t -> Validate.atLeast "threads" 1L (int64 t) |> orFail |> ignore)
    let agent, network = presetFor id width
    let pruning =
        if sparsity = 0.0 then None
        else Some(Prunerl.Agents.Training.PruningRequest(Schedule.paperSpec sparsity, allocation, Sparsity.paperScope))
    let spec =
        Prunerl.Agents.Training.TrainingSpec(
            id, agent, network, steps, seed, Option.toObj pruning, 1, evalEvery, 5, null,
            (match args.TryGetResult Stop_At with Some r -> Nullable r | None -> Nullable()), analyseEvery)
    use metrics =
        match args.TryGetResult TrainArgs.Out with
        | Some directory ->
            try new Prunerl.Agents.Training.MetricsLog(directory)
            with :? IO.IOException as e -> raise (UserError e.Message)
        | None -> null
    match TorchRuntime.TryLoad() with
    | false, error -> raise (UserError error)
    | true, _ -> ()
    let threads =
        match args.TryGetResult TrainArgs.Threads with
        | Some t -> t
        | None -> TorchThreads.For(network.Torso, TorchThreads.ParameterCount(id, network))
    TorchSharp.torch.set_num_threads threads
    let what = if sparsity = 0.0 then "dense" else sprintf "pruned to %g%% (%s) on the paper's schedule, 20%%-80%% of %d updates" (100.0 * sparsity) (args.GetResult(Distribution, "erk")) spec.TotalUpdates
    printfn "Training DQN on %s for %d steps, seed %d: %O torso at width %g, %s; %d torch thread(s)" id steps seed network.Torso width what threads
    printfn "  %8s  %12s  %9s  %8s" "step" "eval return" "sparsity" "seconds"
    let clock = Diagnostics.Stopwatch.StartNew()
    let progress =
        { new IProgress<Prunerl.Agents.Training.EvaluationRecord> with
            member _.Report e = printfn "  %8d  %12.1f  %9.3f  %8.1f" e.Step e.MeanReturn e.Sparsity clock.Elapsed.TotalSeconds }
    let result =
        try Prunerl.Agents.Training.DqnTraining.Run(spec, progress, metrics)
        with :? ArgumentException as e -> raise (argumentError e)
    printfn ""
    printfn "Final network (measured on the tensors):"
    printfn "  %-22s  %-12s  %8s  %8s  %8s" "parameter" "shape" "size" "non-zero" "sparsity"
    for p in result.Parameters do
        printfn "  %-22s  %-12s  %8d  %8d  %8.4f" p.Name (p.Shape |> Array.map string |> String.concat "x") p.Size p.NonZero p.Sparsity
    let total, nonZero = result.Parameters |> Seq.sumBy (fun p -> p.Size), result.Parameters |> Seq.sumBy (fun p -> p.NonZero)
    printfn "  %-22s  %-12s  %8d  %8d  %8.4f" "total" "" total nonZero (1.0 - float nonZero / float total)
    match result.Evaluations |> Seq.sortByDescending (fun e -> e.MeanReturn) |> Seq.tryHead with
    | Some best -> printfn "Best evaluation: %.1f at step %d; %d episodes, %d gradient updates in %.1f s" best.MeanReturn best.Step result.Episodes.Count result.Updates clock.Elapsed.TotalSeconds
    | None -> printfn "%d episodes, %d gradient updates in %.1f s" result.Episodes.Count result.Updates clock.Elapsed.TotalSeconds
    0

/// Steps an environment under uniformly random actions and saves every k-th frame side by side.
let private renderStrip (id: string) (args: ParseResults<EnvsArgs>) =
    let frames = args.GetResult(Frames, 8)
    let every = args.GetResult(Every, 1)
    let seed = args.GetResult(EnvsArgs.Seed, 0L)
    if frames < 1 then raise (UserError(sprintf "frames must be >= 1, got %d" frames))
    if every < 1 then raise (UserError(sprintf "every must be >= 1, got %d" every))
    let out = args.GetResult(EnvsArgs.Out, id.Replace('/', '-') + ".png")
    let environment =
        try Prunerl.Agents.Envs.EnvironmentRegistry.Create id
        with :? ArgumentException as e -> raise (argumentError e)
    let mutable policy = Prunerl.Agents.Envs.EnvRandom(uint64 seed + 1UL)
    environment.Reset(uint64 seed).Length |> ignore
    let pictures = ResizeArray [ environment.Render() ]
    let mutable steps = 0
    while pictures.Count < frames do
        let result =
            match environment.ActionSpace with
            | :? Prunerl.Agents.Envs.DiscreteSpace as d -> environment.Step(policy.NextInt d.Count)
            | :? Prunerl.Agents.Envs.BoxSpace as b ->
                environment.Step(ReadOnlySpan(Array.init b.Size (fun i -> float32 (policy.Uniform(float b.Low[i], float b.High[i])))))
            | other -> raise (UserError(sprintf "%s: cannot draw actions from %O" id other))
        steps <- steps + 1
        if result.Done then environment.Reset().Length |> ignore
        if steps % every = 0 then pictures.Add(environment.Render())
    Prunerl.Agents.Envs.Png.Save(Prunerl.Agents.Envs.Frame.Strip(pictures, 4, Prunerl.Agents.Envs.Rgb.White), out)
    printfn "%s: %d frames, every %d steps, saved to %s" id frames every out
    0

let private envs (args: ParseResults<EnvsArgs>) =
    match args.TryGetResult Render with
    | Some id -> renderStrip id args
    | None ->
        printfn "  %-24s  %-16s  %-12s  %s" "id" "observation" "actions" "description"
        for entry in Prunerl.Agents.Envs.EnvironmentRegistry.Entries do
            let environment = entry.Create.Invoke Prunerl.Agents.Envs.EnvironmentOptions.Default
            printfn "  %-24s  %-16O  %-12O  %s" entry.Id environment.ObservationSpace environment.ActionSpace entry.Description
        0

[<EntryPoint>]
let main argv =
    let parser = ArgumentParser.Create<Command>(programName = "prunerl")
    try
        let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
        match results.GetSubCommand() with
        | Command.Demo args -> demo args
        | Command.Train args -> train args
        | Command.Schedule args -> ScheduleCommand.run args
        | Command.Envs args -> envs args
        | Command.Bench args -> BenchCommand.run args
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        printfn "%s" e.Message
        0
    | :? ArguParseException as e ->
        eprintfn "prunerl: %s (see prunerl --help)" (e.Message.Split('\n').[0].Trim())
        2
    | UserError message ->
        eprintfn "prunerl: %s" message
        2
