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

[<RequireQualifiedAccess>]
type Command =
    | [<CliPrefix(CliPrefix.None)>] Demo of ParseResults<DemoArgs>
    | [<CliPrefix(CliPrefix.None)>] Schedule of ParseResults<ScheduleCommand.ScheduleArgs>

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Demo _ -> "print the paper's pruning schedule and prune a small torch network along it."
            | Schedule _ -> "print any pruning schedule with its per-layer targets; write it as CSV, JSON or a PNG plot."

let private demo (args: ParseResults<DemoArgs>) =
    let sparsity = args.GetResult(Sparsity, 0.9)
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

    use network = new Mlp(4, [| 256; 256 |], 2, args.GetResult(Seed, 0L), device)
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
    printfn "  %-16s  %-12s  %8s  %8s  %8s" "parameter" "shape" "size" "non-zero" "sparsity"
    for p in pruner.Measure() do
        let shape = p.Shape |> Array.map string |> String.concat "x"
        printfn "  %-16s  %-12s  %8d  %8d  %8.4f" p.Name shape p.Size p.NonZero p.Sparsity
    let final = Plan.at pruner.Plan totalSteps
    printfn "  %-16s  %-12s  %8d  %8d  %8.4f" "total" "" final.TotalSize final.NonZero (1.0 - float final.NonZero / float final.TotalSize)
    0

[<EntryPoint>]
let main argv =
    let parser = ArgumentParser.Create<Command>(programName = "prunerl")
    try
        let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
        match results.GetSubCommand() with
        | Command.Demo args -> demo args
        | Command.Schedule args -> ScheduleCommand.run args
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
