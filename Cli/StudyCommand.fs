/// `prunerl study`: the main job. A slice of the MinAtar width study: DQN dense against pruned to 95% at
/// widths 1 and 3 on MinAtar Space Invaders with two seeds, trained by `sweep` and summarised by `report`,
/// in a few minutes on two cores. Thin: it only names the grid and calls those two commands.
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

/// The grid: one slice of the MinAtar width study (results/minatar-width) on Space Invaders (of the five
/// games the one a DQN lifts clearly above a random policy's 2.86 soonest), with the study's protocol
/// (Dopamine's MinAtar DQN, pruned to 95% with ERK on the paper's schedule, the width on the convolution)
/// at a twentieth of its length: 50k steps, exploration decaying over the first 12.5k (the preset's 250k of
/// 1M steps, scaled), no separate evaluations (runs are scored on their training returns, as Dopamine's),
/// the network analysed every 5000 steps.
let private grid =
    [ "--env"; "minatar/space_invaders"; "--width"; "1,3"; "--sparsity"; "0,0.95"; "--seed"; "1,2"; "--steps"; "50000"
      "--set"; "epsilon_decay_steps=12500"; "--set"; "eval_every=0"; "--set"; "analyse_every=5000"; "--set"; "checkpoint_every=10000" ]

/// Where the full study's results and report are committed.
let fullStudy = Path.Combine("results", "minatar-width")

let run (args: ParseResults<StudyArgs>) : int =
    let out = args.GetResult(StudyArgs.Out, Path.Combine("results", "study"))
    let workers = args.TryGetResult StudyArgs.Workers |> Option.map (fun w -> [ "--workers"; string w ]) |> Option.defaultValue []
    let sweepParser = ArgumentParser.Create<SweepCommand.SweepArgs>(programName = "prunerl sweep")
    let reportParser = ArgumentParser.Create<ReportCommand.ReportArgs>(programName = "prunerl report")
    printfn "The study: DQN dense vs pruned to 95%% (ERK, the paper's schedule), widths 1 and 3, seeds 1 and 2, on MinAtar Space Invaders, 50k steps per run; results in %s" out
    let failed = sweepParser.Parse(Array.ofList ([ "--out"; out ] @ grid @ workers), raiseOnUsage = true) |> SweepCommand.run <> 0
    printfn ""
    let report = reportParser.Parse([| out |], raiseOnUsage = true) |> ReportCommand.run
    printfn ""
    printfn "This is a 50k-step slice of the full study: 3 MinAtar games x widths 1, 3, 5 x dense and pruned (95%%) x 3 seeds,"
    printfn "1M steps per run, committed in %s (its report: %s; the answer in README.md, 'Results')."
        fullStudy (Path.Combine(fullStudy, "report", "report.md"))
    if failed then 1 else report
