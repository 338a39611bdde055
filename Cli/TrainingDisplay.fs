/// What a training run shows while it runs: a live panel in a terminal (Spectre.Console), plain lines
/// when the output goes to a file or a pipe (tests, sweeps, schedulers).
module Prunerl.Cli.TrainingDisplay

open System
open System.Diagnostics
open Spectre.Console
open Spectre.Console.Rendering
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Agents.Training

/// The live panel shows the last few evaluations.
let private shownEvaluations = 5

/// Plain output prints a progress line at most this often.
let private plainEvery = TimeSpan.FromSeconds 30.0

/// Speed and time left since the display started (a resumed run starts counting where it resumed).
type private Pace(clock: Stopwatch) =
    let mutable first: TrainingProgress option = None

    member _.Observe(p: TrainingProgress) = if first.IsNone then first <- Some p

    /// Agent steps per second, and the time the remaining steps will take at this pace.
    member _.Rates(p: TrainingProgress) =
        match first with
        | Some f when p.Step > f.Step && clock.Elapsed.TotalSeconds > 0.0 ->
            let stepsPerSecond = float (p.Step - f.Step) / clock.Elapsed.TotalSeconds
            Some(stepsPerSecond, TimeSpan.FromSeconds(float (p.TotalSteps - p.Step) / stepsPerSecond))
        | _ -> None

/// A time span as progress lines show it: "45s", "3m07s", "2h05m".
let duration (t: TimeSpan) : string =
    if t.TotalHours >= 1.0 then sprintf "%dh%02dm" (int t.TotalHours) t.Minutes
    elif t.TotalMinutes >= 1.0 then sprintf "%dm%02ds" t.Minutes t.Seconds
    else sprintf "%ds" (int (ceil t.TotalSeconds))

/// A text progress bar `width` characters wide for a fraction in [0, 1] (clamped): filled then empty blocks.
let bar (width: int) (fraction: float) : string =
    let filled = int (Math.Round(float width * (if Double.IsFinite fraction then max 0.0 (min 1.0 fraction) else 0.0)))
    String('#', filled) + String('-', width - filled)

/// Speed and time left as progress lines show them: "1234 steps/s, 3m07s left".
let speed (stepsPerSecond: float) (left: TimeSpan) : string = sprintf "%.0f steps/s, %s left" stepsPerSecond (duration left)

let private recent (p: TrainingProgress) = if Double.IsNaN p.RecentReturn then "-" else sprintf "%.1f" p.RecentReturn

/// The episodes a progress report's recent return is the mean of (the training loops' TrainingSession.RecentEpisodes).
let recentEpisodes = DqnTraining.RecentEpisodes

/// The mean return of a uniformly random policy on a MinAtar game (Normalization.builtIn), shown beside
/// the recent return for context; None for other environments.
let randomScore (env: string) : float option =
    if RunConfig.isMinAtar env then Normalization.builtIn |> List.tryFind (fun s -> s.Env = env) |> Option.map _.RandomScore
    else None

/// What the recent return is, for the line above plain progress: the mean of the last 20 episodes, and
/// what a random policy scores when it is known.
let recentMeaning (random: float option) : string =
    sprintf "Recent return (in progress lines): the mean return of the last %d training episodes%s" recentEpisodes
        (random |> Option.map (sprintf "; a uniformly random policy scores %s on this game" << Validate.show) |> Option.defaultValue "")

/// The panel's episodes row: the count, the recent return said to be the mean of the last 20 episodes,
/// and the random policy's score when it is known.
let episodesRow (random: float option) (p: TrainingProgress) : string =
    sprintf "%d, recent return %s (mean of the last %d%s)" p.Episodes (recent p) recentEpisodes
        (random |> Option.map (sprintf "; random policy %s" << Validate.show) |> Option.defaultValue "")

/// Progress and evaluations of one run, shown as they come; the evaluations also as a table at the end.
/// `random` is the game's random-policy score shown beside the recent return (randomScore), if known;
/// `onProgress` receives each progress report with the agent steps per second measured so far.
type Display(title: string, live: bool, random: float option, onProgress: TrainingProgress -> float option -> unit) =
    let clock = Stopwatch.StartNew()
    let pace = Pace(clock)
    let evaluations = ResizeArray<EvaluationRecord>()
    let mutable latest: TrainingProgress option = None
    let mutable lastPlain = TimeSpan.Zero
    let mutable refresh: unit -> unit = ignore

    let panel () : IRenderable =
        let grid = Grid().AddColumn().AddColumn()
        let row (name: string) (value: string) = grid.AddRow(Markup.Escape name, Markup.Escape value) |> ignore
        match latest with
        | Some p ->
            let fraction = float p.Step / float (max 1L p.TotalSteps)
            row "step" (sprintf "%d of %d  [%s] %.1f%%" p.Step p.TotalSteps (bar 30 fraction) (100.0 * fraction))
            row "episodes" (episodesRow random p)
            row "sparsity" (sprintf "%.4f" p.Sparsity)
            match pace.Rates p with
            | Some(stepsPerSecond, left) -> row "speed" (speed stepsPerSecond left)
            | None -> row "speed" "-"
        | None -> row "step" "starting"
        let table = Table().AddColumns("step", "eval return", "sparsity")
        for e in evaluations |> Seq.skip (max 0 (evaluations.Count - shownEvaluations)) do
            table.AddRow(string e.Step, sprintf "%.1f" e.MeanReturn, sprintf "%.3f" e.Sparsity) |> ignore
        Rows(Markup(Markup.Escape title), grid, table)

    let printEvaluation (e: EvaluationRecord) =
        printfn "  %8d  %12.1f  %9.3f  %8.1f" e.Step e.MeanReturn e.Sparsity clock.Elapsed.TotalSeconds

    /// Receives each evaluation.
    member _.Evaluations =
        { new IProgress<EvaluationRecord> with
            member _.Report e =
                evaluations.Add e
                if live then refresh () else printEvaluation e }

    /// Receives progress (at least every 1000 agent steps).
    member _.Progress =
        { new IProgress<TrainingProgress> with
            member _.Report p =
                pace.Observe p
                latest <- Some p
                let rates = pace.Rates p
                onProgress p (rates |> Option.map fst)
                if live then refresh ()
                elif clock.Elapsed - lastPlain >= plainEvery && p.Step < p.TotalSteps then
                    lastPlain <- clock.Elapsed
                    let pace = rates |> Option.map (fun (perSecond, left) -> ", " + speed perSecond left) |> Option.defaultValue ""
                    printfn "  (step %d of %d, %.0f%%: %d episodes, recent return %s, sparsity %.3f%s)" p.Step p.TotalSteps
                        (100.0 * float p.Step / float (max 1L p.TotalSteps)) p.Episodes (recent p) p.Sparsity pace }

    /// Runs the training under the display; in a terminal the panel stays on screen after it, followed
    /// by every evaluation when the panel showed only the last few.
    member _.Run(train: unit -> 'a) : 'a =
        if live then
            try
                AnsiConsole
                    .Live(panel ())
                    .Start(fun context ->
                        refresh <- (fun () -> context.UpdateTarget(panel ()))
                        train ())
            finally
                refresh <- ignore
                if evaluations.Count > shownEvaluations then
                    printfn "  %8s  %12s  %9s" "step" "eval return" "sparsity"
                    for e in evaluations do
                        printfn "  %8d  %12.1f  %9.3f" e.Step e.MeanReturn e.Sparsity
        else
            printfn "%s" title
            printfn "%s." (recentMeaning random)
            printfn "  %8s  %12s  %9s  %8s" "step" "eval return" "sparsity" "seconds"
            train ()

/// Whether to draw live: standard output is an interactive terminal.
let isTerminal () = not Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
