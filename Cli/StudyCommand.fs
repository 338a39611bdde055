/// `prunerl study`: the main job. A small but real version of the paper's study, dense against pruned to
/// 90% at two widths on CartPole and MinAtar Space Invaders with two seeds, trained by `sweep` and summarised by
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

/// The grid, one sweep per environment because each environment gets its own length and settings:
/// CartPole learns in 30k steps with its preset. MinAtar Space Invaders (of the five games the one a DQN
/// lifts clearly above a random policy's 2.86 soonest) gets 30k steps, with exploration decaying over
/// the first 10k instead of the preset's 100k (a run a thirtieth of the paper's length would otherwise
/// end still exploring), evaluations every 2500 steps (so a run's score averages several) and the
/// network analysed every 5000.
let private sweeps =
    [ "cartpole", "30000", []
      "minatar/space_invaders", "30000", [ "epsilon_decay_steps=10000"; "eval_every=2500"; "analyse_every=5000" ] ]

let run (args: ParseResults<StudyArgs>) : int =
    let out = args.GetResult(StudyArgs.Out, Path.Combine("results", "study"))
    let workers = args.TryGetResult StudyArgs.Workers |> Option.map (fun w -> [ "--workers"; string w ]) |> Option.defaultValue []
    let sweepParser = ArgumentParser.Create<SweepCommand.SweepArgs>(programName = "prunerl sweep")
    let reportParser = ArgumentParser.Create<ReportCommand.ReportArgs>(programName = "prunerl report")
    printfn "The study: dense vs pruned to 90%% (ERK, the paper's schedule), widths 1 and 2, seeds 1 and 2, on %s; results in %s"
        (sweeps |> List.map (fun (env, _, _) -> env) |> String.concat " and ") out
    let failed =
        sweeps
        |> List.map (fun (env, steps, settings) ->
            printfn ""
            printfn "== %s, %s steps per run%s" env steps (if settings.IsEmpty then "" else ", " + String.concat ", " settings)
            [ "--out"; out; "--env"; env; "--steps"; steps; "--width"; "1,2"; "--sparsity"; "0,0.9"; "--seed"; "1,2" ]
            @ (settings |> List.collect (fun s -> [ "--set"; s ]))
            @ workers
            |> Array.ofList
            |> fun argv -> sweepParser.Parse(argv, raiseOnUsage = true)
            |> SweepCommand.run)
        |> List.exists ((<>) 0)
    printfn ""
    let report = reportParser.Parse([| out |], raiseOnUsage = true) |> ReportCommand.run
    if failed then 1 else report
