/// The prunerl command line: parse, validate, call, report.
module Prunerl.Cli.Program

open System
open Argu
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Networks
open Prunerl.Agents.Pruning
open Prunerl.Agents.Runtime
open Prunerl.Cli.UserError

type DemoArgs =
    | Sparsity of fraction: float
    | Total_Steps of updates: string
    | Device of DeviceKind
    | Seed of seed: int64

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Sparsity _ -> "final sparsity in [0, 1) (default 0.95, the paper's)."
            | Total_Steps _ -> "training length in gradient updates (default 2500000, Dopamine DQN's 10M agent steps / 4)."
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

[<RequireQualifiedAccess>]
type Command =
    | [<CliPrefix(CliPrefix.None)>] Demo of ParseResults<DemoArgs>
    | [<CliPrefix(CliPrefix.None)>] Study of ParseResults<StudyCommand.StudyArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainCommand.TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Evaluate of ParseResults<EvaluateCommand.EvaluateArgs>
    | [<CliPrefix(CliPrefix.None)>] Export of ParseResults<ExportCommand.ExportArgs>
    | [<CliPrefix(CliPrefix.None)>] Sweep of ParseResults<SweepCommand.SweepArgs>
    | [<CliPrefix(CliPrefix.None)>] Schedule of ParseResults<ScheduleCommand.ScheduleArgs>
    | [<CliPrefix(CliPrefix.None)>] Envs of ParseResults<EnvsArgs>
    | [<CliPrefix(CliPrefix.None)>] Bench of ParseResults<BenchCommand.BenchArgs>
    | [<CliPrefix(CliPrefix.None)>] Report of ParseResults<ReportCommand.ReportArgs>
    | [<CliPrefix(CliPrefix.None)>] Analyze of ParseResults<AnalyzeCommand.AnalyzeArgs>
    | [<AltCommandLine("-V")>] Version

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Demo _ -> "print the paper's pruning schedule and prune a small torch network along it."
            | Study _ -> sprintf "the main job: a slice of the MinAtar width study (%s), then its report." StudyCommand.summary
            | Train _ -> sprintf "train one run of an agent (%s), pruned gradually on the paper's schedule (or dense), into a run folder." (Prunerl.Experiments.Choices.agents |> List.map fst |> String.concat ", ")
            | Evaluate _ -> "play a finished run's final network for whole episodes: mean return with its spread, each episode's return as CSV, --record an animated GIF."
            | Export _ -> "write a finished run's final network as PyTorch's state_dict (.pt) and safetensors, with network.json describing it for torch."
            | Sweep _ -> "train a grid of runs (environments x widths x sparsities x baselines x seeds) with local workers or as a Slurm job array; --status of a results folder."
            | Schedule _ -> "print any pruning schedule with its per-layer targets; write it as CSV, JSON or a PNG plot."
            | Envs _ -> "list the environments, or render one to a PNG strip."
            | Bench _ -> "benchmarks that print figures (speed and memory targets live here, not in tests)."
            | Report _ -> "aggregate a results folder as rliable does (IQM, median, mean, optimality gap with bootstrap CIs, profiles, P(pruned > dense)): markdown, CSV and plots."
            | Analyze _ -> "the paper's analysis figures over training (dormant neurons, srank, parameter norm, Q variance, gradient interference), dense vs pruned."
            | Version -> "print prunerl's version and the source commit it was built from."

/// prunerl's version and source commit as the build stamped them (BuildInfo), shown as
/// "prunerl 1.0.0 (commit 352b4720...)".
let version () : string = sprintf "prunerl %s (commit %s)" BuildInfo.version BuildInfo.commit

/// The names a mistyped argument is compared with: the subcommand's flags when argv names a subcommand,
/// else the commands and top-level flags (Argu's parsers at each level, in declaration order).
let private knownNames (parser: ArgumentParser<Command>) (argv: string[]) : string list =
    let names (p: ArgumentParser) = p.GetArgumentCases() |> List.collect (fun c -> c.CommandLineNames.Value)
    let commands = parser.GetArgumentCases() |> List.filter (fun c -> c.ArgumentType = ArgumentType.SubCommand)
    match commands |> List.tryFindIndex (fun c -> argv.Length > 0 && List.contains argv[0] c.CommandLineNames.Value) with
    | Some i -> names (parser.GetSubCommandParsers()[i])
    | None -> names parser

/// Argu's one-line error, with a suggestion when it is an unrecognised argument close to a known one.
let private withSuggestion (parser: ArgumentParser<Command>) (argv: string[]) (message: string) : string =
    let m = Text.RegularExpressions.Regex.Match(message, "unrecognized argument: '([^']*)'")
    if m.Success then message.TrimEnd('.') + Prunerl.Experiments.Suggest.hint (knownNames parser argv) m.Groups[1].Value
    else message

let private demo (args: ParseResults<DemoArgs>) =
    let sparsity = args.GetResult(DemoArgs.Sparsity, 0.95)
    let totalSteps = args.TryGetResult Total_Steps |> Option.map (count "total_steps") |> Option.defaultValue 2_500_000L
    let request = args.GetResult(Device, DeviceKind.Auto)
    let schedule = Schedule.gradual totalSteps (Schedule.paperSpec sparsity) |> orFail
    match TorchRuntime.TryLoad() with
    | false, error -> raise (UserError error)
    | true, _ -> ()
    let device = RunInputs.resolveDevice request

    match schedule with
    | Gradual g ->
        printfn "The paper's schedule: sparsity 0 -> %g, cubic, from update %d to %d of %d, masks every %d updates" g.Final g.Start g.End totalSteps g.UpdatePeriod
    | other -> printfn "Schedule: %A" other

    use network = new QNetwork(NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 256; 256 |]), [| 4 |], 2, args.GetResult(DemoArgs.Seed, 0L), device)
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

/// Steps an environment under uniformly random actions and saves every k-th frame side by side.
let private renderStrip (id: string) (args: ParseResults<EnvsArgs>) =
    let frames = args.GetResult(Frames, 8)
    let every = args.GetResult(Every, 1)
    let seed = args.GetResult(EnvsArgs.Seed, 0L)
    if frames < 1 then raise (UserError(sprintf "frames must be >= 1, got %d" frames))
    if every < 1 then raise (UserError(sprintf "every must be >= 1, got %d" every))
    let out = args.GetResult(EnvsArgs.Out, id.Replace('/', '-') + ".png")
    let environment = createEnvironment id
    let mutable policy = Prunerl.Agents.Runtime.EnvRandom(uint64 seed + 1UL)
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
            match entry.UnavailableReason with
            | null ->
                let environment = entry.Create.Invoke Prunerl.Agents.Envs.EnvironmentOptions.Default
                printfn "  %-24s  %-16O  %-12O  %s" entry.Id environment.ObservationSpace environment.ActionSpace entry.Description
            | reason -> printfn "  %-24s  %-16s  %-12s  %s [unavailable: %s]" entry.Id "-" "-" entry.Description reason
        0

/// A help text with what the command asked about does first: `prunerl study --help` begins with study's
/// line of `prunerl --help` (Argu prints a subcommand's options only).
let helpFor (argv: string[]) (help: string) : string =
    let case =
        Microsoft.FSharp.Reflection.FSharpType.GetUnionCases typeof<Command>
        |> Array.tryFind (fun case -> argv.Length > 0 && case.Name.ToLowerInvariant() = argv[0] && case.GetFields().Length = 1)
    match case with
    | Some case ->
        let usage = (Microsoft.FSharp.Reflection.FSharpValue.MakeUnion(case, [| null |]) :?> IArgParserTemplate).Usage
        sprintf "prunerl %s: %s\n\n%s" argv[0] usage help
    | None -> help

/// Parses the command line and runs its command: the exit code, or a UserError (and Argu's
/// exceptions) for main to report. Every command but sweep (whose axes a repeated flag extends) and bench
/// (whose --env repeats) takes each flag once. Tests call it in-process.
let dispatch (argv: string[]) : int =
    let parser = ArgumentParser.Create<Command>(programName = "prunerl")
    let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
    if results.Contains Command.Version then
        printfn "%s" (version ())
        0
    else
        match results.GetSubCommand() with
        | Command.Version -> 0
        | Command.Demo args -> once args; demo args
        | Command.Study args -> once args; StudyCommand.run args
        | Command.Train args -> once args; TrainCommand.run args
        | Command.Evaluate args -> once args; EvaluateCommand.run args
        | Command.Export args -> once args; ExportCommand.run args
        | Command.Sweep args -> SweepCommand.run args
        | Command.Schedule args -> once args; ScheduleCommand.run args
        | Command.Envs args -> once args; envs args
        | Command.Report args -> once args; ReportCommand.run args
        | Command.Analyze args -> once args; AnalyzeCommand.run args
        | Command.Bench args -> BenchCommand.run args

[<EntryPoint>]
let main argv =
    // -h is --help at every level, as most command lines have it (no command takes a flag -h).
    let argv = argv |> Array.map (fun a -> if a = "-h" then "--help" else a)
    try
        dispatch argv
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        printfn "%s" (helpFor argv e.Message)
        0
    | :? ArguParseException as e ->
        eprintfn "prunerl: %s (see prunerl --help)" (withSuggestion (ArgumentParser.Create<Command>(programName = "prunerl")) argv (e.Message.Split('\n').[0].Trim()))
        2
    | UserError message ->
        eprintfn "prunerl: %s" message
        2
