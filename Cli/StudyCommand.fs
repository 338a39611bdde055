/// `prunerl study`: the main job. A small but real version of the paper's study, dense against pruned to
/// 90% at two widths on CartPole and MinAtar Breakout with two seeds, trained by `sweep` and summarised by
/// `report`, in a few minutes on two cores. Thin: it only names the grid and calls those two commands.
module Prunerl.Cli.StudyCommand

open System
open System.IO
open Argu

[<RequireQualifiedAccess>]
type StudyArgs =
    | [<AltCommandLine("-o")>] Out of directory: string
    | Workers of count: int

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Out _ -> "the results folder (default results/study); running again skips finished runs and resumes interrupted ones."
            | Workers _ -> "runs trained at once (default: the number of cores)."

/// The grid, one sweep per environment because each environment gets its own length: CartPole learns
/// in 30k steps, MinAtar Breakout climbs clearly above a random policy in 25k.
let private sweeps =
    [ "cartpole", "30000"
      "minatar/breakout", "25000" ]

let run (args: ParseResults<StudyArgs>) : int =
    let out = args.GetResult(StudyArgs.Out, Path.Combine("results", "study"))
    let workers = args.TryGetResult StudyArgs.Workers |> Option.map (fun w -> [ "--workers"; string w ]) |> Option.defaultValue []
    let sweepParser = ArgumentParser.Create<SweepCommand.SweepArgs>(programName = "prunerl sweep")
    let reportParser = ArgumentParser.Create<ReportCommand.ReportArgs>(programName = "prunerl report")
    printfn "The study: dense vs pruned to 90%% (ERK, the paper's schedule), widths 1 and 2, seeds 1 and 2, on %s; results in %s"
        (sweeps |> List.map fst |> String.concat " and ") out
    let failed =
        sweeps
        |> List.map (fun (env, steps) ->
            printfn ""
            printfn "== %s, %s steps per run" env steps
            [ "--out"; out; "--env"; env; "--steps"; steps; "--width"; "1,2"; "--sparsity"; "0,0.9"; "--seed"; "1,2" ] @ workers
            |> Array.ofList
            |> fun argv -> sweepParser.Parse(argv, raiseOnUsage = true)
            |> SweepCommand.run)
        |> List.exists ((<>) 0)
    printfn ""
    let report = reportParser.Parse([| out |], raiseOnUsage = true) |> ReportCommand.run
    if failed then 1 else report
