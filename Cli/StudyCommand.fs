/// `prunerl study`: the main job. A slice of the MinAtar width study: DQN dense against pruned to 95% at
/// widths 1 and 3 on MinAtar Space Invaders with two seeds, trained by `sweep` and summarised by `report`,
/// in a few minutes on two cores. Thin: it only names the grid and calls the sweep and the report.
module Prunerl.Cli.StudyCommand

open System
open System.IO
open Argu
open Prunerl.Experiments

[<RequireQualifiedAccess>]
type StudyArgs =
    | [<AltCommandLine("-o")>] Out of directory: string
    | Workers of count: int

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Out _ -> "the results folder (default results/study); running again skips finished runs and resumes interrupted ones."
            | Workers _ -> "runs trained at once (default: the number of cores)."

/// The study's game: of the five MinAtar games the one a DQN lifts clearly above a random policy's 2.86 soonest.
let game = "minatar/space_invaders"

/// The study's widths, its pruned runs' sparsity (its dense runs have 0), its seeds and its agent steps per run.
let widths, sparsity, seeds, steps = [ 1; 3 ], 0.95, [ 1; 2 ], 30_000

/// A list as prose: "1", "1 and 3", "1, 3 and 5".
let private prose (items: string list) =
    match List.rev items with
    | [] -> ""
    | [ one ] -> one
    | last :: rest -> sprintf "%s and %s" (List.rev rest |> String.concat ", ") last

/// A MinAtar game's name from its id: minatar/space_invaders -> Space Invaders.
let private gameName (id: string) =
    id.Substring(id.IndexOf '/' + 1).Split('_') |> Array.map (fun w -> string (Char.ToUpperInvariant w[0]) + w.Substring 1) |> String.concat " "

/// What the study runs, in the words of the help texts, from the grid's own values.
let summary =
    sprintf "DQN dense vs pruned to %g%% at widths %s on MinAtar %s, seeds %s, %dk steps per run"
        (100.0 * sparsity) (widths |> List.map string |> prose) (gameName game) (seeds |> List.map string |> prose) (steps / 1000)

/// The grid: one slice of the MinAtar width study (results/minatar-width) on `game`, with the study's
/// protocol (Dopamine's MinAtar DQN, pruned to 95% with ERK on the paper's schedule, the width on the
/// convolution) at a thirtieth of its length: 30k steps, exploration decaying over the first quarter (the
/// preset's 250k of 1M steps, scaled), no separate evaluations (runs are scored on their training returns,
/// as Dopamine's), the network analysed every tenth of the run. The values are written as on a command
/// line (`sweep --env ... --set ...` gives the same runs and folder names).
let grid : (string * FieldValue list) list =
    let values (xs: 'a list) = xs |> List.map (string >> Text)
    [ "env", [ Text game ]
      "width", values widths
      "sparsity", [ Text "0"; Text(sprintf "%g" sparsity) ]
      "seed", values seeds
      "steps", values [ steps ]
      "epsilon_decay_steps", values [ steps / 4 ]
      "eval_every", values [ 0 ]
      "analyse_every", values [ steps / 10 ]
      "checkpoint_every", values [ steps / 5 ] ]

/// Where the full study's results and report are committed.
let fullStudy = Path.Combine("results", "minatar-width")

let run (args: ParseResults<StudyArgs>) : int =
    let out = args.GetResult(StudyArgs.Out, Path.Combine("results", "study"))
    let workers = args.GetResult(StudyArgs.Workers, Environment.ProcessorCount)
    if workers < 1 then raise (UserError.UserError(sprintf "workers must be >= 1, got %d" workers))
    let reportParser = ArgumentParser.Create<ReportCommand.ReportArgs>(programName = "prunerl report")
    printfn "The study: %s (ERK, the paper's schedule); results in %s" summary out
    let failed = SweepCommand.sweepLocal out workers grid <> 0
    printfn ""
    let report = reportParser.Parse([| out |], raiseOnUsage = true) |> ReportCommand.run
    printfn ""
    printfn "This is a %dk-step slice of the full study: 3 MinAtar games x widths 1, 3, 5 x dense and pruned (95%%) x 3 seeds," (steps / 1000)
    printfn "1M steps per run, committed in %s (its report: %s; the answer in README.md, 'Results')."
        fullStudy (Path.Combine(fullStudy, "report", "report.md"))
    if failed then 1 else report
