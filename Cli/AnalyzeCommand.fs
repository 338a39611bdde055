/// `prunerl analyze`: the paper's analysis figures for a set of runs (dormant neurons, srank, parameter
/// norm, Q variance, gradient interference, non-zero parameters) over training, per environment,
/// dense against pruned per width, with the per-group means over time as CSV.
module Prunerl.Cli.AnalyzeCommand

open System
open System.IO
open Argu
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Cli.UserError

/// The most bootstrap repetitions per interval: 20 times rliable's default of 50,000
/// (rliable/library.py, get_interval_estimates' reps); each repetition resamples every run, so 10^9 of
/// them would keep report and analyze busy for days.
[<Literal>]
let maxReps = 1_000_000

[<RequireQualifiedAccess>]
type AnalyzeArgs =
    | [<MainCommand; ExactlyOnce>] Results of directory: string
    | Out of directory: string
    | Group_By of keys: string
    | Include_Unfinished
    | Reps of count: int
    | Seed of seed: int64

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Results _ -> "the results folder: runs (folders holding config.json) at any depth under it."
            | Out _ -> "folder for analysis.csv and the PNG figures (default <results>/analysis)."
            | Group_By _ -> "comma-separated config keys that form the groups; 'kind' is dense, pruned or the baseline (default kind,width; agent,kind,width when the runs train several agents)."
            | Include_Unfinished -> "take running and interrupted runs too (default: finished runs only)."
            | Reps _ -> sprintf "bootstrap repetitions per interval, 1 to %d (default 2000)." maxReps
            | Seed _ -> "seed of the bootstrap (default 0)."

/// The analysis metrics' prefix in metrics.csv.
let metricPrefix = RunFormat.AnalysisPrefix

/// The paper's analysis figures: metric, title, y-axis label.
let figures =
    [ RunFormat.AnalysisDormantFraction, "Dormant neurons", "fraction of tau-dormant neurons"
      RunFormat.AnalysisSrank, "Effective rank (srank, delta = 0.01)", "srank of the penultimate features"
      RunFormat.AnalysisParameterNorm, "Parameter norm", "L2 norm of the parameters"
      RunFormat.AnalysisQVariance, "Variance of Q estimates", "variance of Q over replay states"
      RunFormat.AnalysisTargetQVariance, "Variance of the target network's Q estimates", "variance of target Q over replay states"
      RunFormat.AnalysisTdTargetVariance, "Variance of the TD targets", "variance of R + d Q_target(s', a*) over replay states"
      RunFormat.AnalysisQNorm, "Q norm", "mean over states of |Q(s, .)|"
      RunFormat.AnalysisGradientInterference, "Gradient interference (signed)", "mean cosine between per-sample gradients"
      RunFormat.AnalysisGradientInterferenceAbs, "Gradient interference (magnitude)", "mean |cosine| between per-sample gradients"
      RunFormat.AnalysisNonzeroParameters, "Non-zero parameters", "non-zero parameters" ]

/// Grouping keys parsed from "a,b,c".
let parseKeys (text: string) =
    text.Split(',') |> Array.map (fun k -> k.Trim()) |> Array.filter (fun k -> k <> "") |> List.ofArray

/// Report settings with 95% intervals from --reps and --seed, checked.
let settingsOf (reps: int) (seed: int64) (source: ScoreSource) (scoreWindow: float) (scales: ScoreScale list) : ReportSettings =
    Validate.atLeast "reps" 1L (int64 reps) |> orFail |> ignore
    if reps > maxReps then raise (UserError(sprintf "reps must be <= %d, got %d" maxReps reps))
    Validate.atLeast "seed" 0L seed |> orFail |> ignore
    { Source = source; ScoreWindow = scoreWindow; Confidence = 0.95; Repetitions = reps; Seed = uint64 seed; Scales = scales }

/// The grouping keys of the analysis: the environment first (figures are per environment), then the user's.
let private analysisKeys (groupBy: string list) = "env" :: (groupBy |> List.filter (fun k -> k <> "env"))

/// The per-group curves of every analysis metric (mean over runs with its bootstrap interval), the
/// environment always a grouping key: (metric, curves) in metric order.
let curves (settings: ReportSettings) (groupBy: string list) (runs: Run list) : (string * Curve list) list =
    let keys = analysisKeys groupBy
    runs
    |> List.collect (fun r -> r.Series |> Map.toList |> List.map fst |> List.filter (fun m -> m.StartsWith metricPrefix))
    |> List.distinct
    |> List.sort
    |> List.map (fun metric ->
        let series = runs |> List.choose (fun r -> r.Series.TryFind metric |> Option.map (fun s -> r, s))
        metric, Report.curves settings Aggregate.mean keys series |> orFail)

/// A group's label without its environment (figures are per environment).
let private labelWithoutEnv (group: Group) = Report.label { Values = group.Values |> List.filter (fun (k, _) -> k <> "env") }

let private envOf (group: Group) = group.Values |> List.find (fun (k, _) -> k = "env") |> snd

/// analysis.csv (every analysis metric, group and step: runs, mean and its interval) and one PNG per
/// paper figure and environment, analysis_<metric>_<env>.png.
let render (groupBy: string list) (analysis: (string * Curve list) list) : (string * byte[]) list =
    let keys = analysisKeys groupBy
    let table =
        Tables.csv
            ([ "metric"; "group" ] @ keys @ [ "step"; "runs"; "mean"; "lower"; "upper" ])
            [ for metric, groupCurves in analysis do
                for curve in groupCurves do
                    for p in curve.Points do
                        [ metric; labelWithoutEnv curve.Group ] @ (curve.Group.Values |> List.map snd)
                        @ [ string p.Step; string p.Runs; Tables.number p.Value.Estimate; Tables.number p.Value.Lower; Tables.number p.Value.Upper ] ]
    let pictures =
        [ for metric, title, yLabel in figures do
            match analysis |> List.tryFind (fun (m, _) -> m = metric) with
            | Some(_, groupCurves) ->
                for env, envCurves in groupCurves |> List.groupBy (fun c -> envOf c.Group) do
                    let lines = envCurves |> List.map (fun c -> Plots.ofCurve (labelWithoutEnv c.Group) c true)
                    let name = sprintf "analysis_%s_%s.png" (metric.Substring metricPrefix.Length) (Plots.slug env)
                    name, Plots.chart (sprintf "%s on %s (mean over runs, 95%% CI)" title env) "agent step" yLabel Plots.Band lines
            | None -> () ]
    ("analysis.csv", table) :: pictures

/// The last step of each paper figure per group, as a markdown table.
let summary (analysis: (string * Curve list) list) : string =
    let rows =
        [ for metric, _, _ in figures do
            match analysis |> List.tryFind (fun (m, _) -> m = metric) with
            | Some(_, groupCurves) ->
                for curve in groupCurves do
                    match Array.tryLast curve.Points with
                    | Some last -> [ metric.Substring metricPrefix.Length; envOf curve.Group; labelWithoutEnv curve.Group; string last.Step; string last.Runs; Tables.interval last.Value ]
                    | None -> ()
            | None -> () ]
    Tables.markdown [ "metric"; "env"; "group"; "last step"; "runs"; "mean [95% CI]" ] [ "---"; "---"; "---"; "--:"; "--:"; "---" ] rows

/// Skipped runs as a markdown list, or nothing.
let skippedSection (skipped: (Run * string) list) =
    if skipped.IsEmpty then ""
    else
        "\n\n## Skipped runs\n\n"
        + Tables.markdown [ "run"; "why" ] [ "---"; "---" ] (skipped |> List.map (fun (r, why) -> [ r.Id; why ]))

/// Why runs have no analyses: SAC records none (the paper's analyses measure the value networks of the
/// DQN family); the others were trained without --analyse-every.
let noAnalysesHint (runs: Run list) : string =
    let sac = runs |> List.filter (fun r -> r.Config.TryFind "agent" = Some "sac") |> List.length
    if sac = 0 then " (train with --analyse-every N)"
    elif sac = runs.Length then
        let analysed = Choices.agents |> List.filter (snd >> fun a -> RunFields.appliesTo a "analyse_every") |> List.map fst
        sprintf " (SAC runs record no analyses: they measure the DQN family's value networks; train %s or %s with --analyse-every N)"
            (analysed |> List.take (analysed.Length - 1) |> String.concat ", ") (List.last analysed)
    else sprintf " (%d of the %d runs are SAC runs, which record no analyses; train the others with --analyse-every N)" sac runs.Length

/// Runs `prunerl analyze`.
let run (args: ParseResults<AnalyzeArgs>) : int =
    let root = args.GetResult AnalyzeArgs.Results
    let out = args.GetResult(AnalyzeArgs.Out, Path.Combine(root, "analysis"))
    let settings = settingsOf (args.GetResult(AnalyzeArgs.Reps, 2000)) (args.GetResult(AnalyzeArgs.Seed, 0L)) ScoreSource.Evaluation 0.0 []
    let runs, skipped = Results.gather root (args.Contains AnalyzeArgs.Include_Unfinished) RunFormat.AnalysisDormantFraction noAnalysesHint
    let groupBy = parseKeys (args.GetResult(AnalyzeArgs.Group_By, String.concat "," (Report.defaultGroupFor runs)))
    Report.checkGroupBy runs groupBy |> orFail |> ignore
    let analysis = curves settings groupBy runs
    let files = render groupBy analysis
    let text =
        sprintf "# prunerl analyze\n\n%d runs from %s; means over runs with 95%% stratified-bootstrap intervals (%d repetitions, seed %d).\n\n%s%s\n"
            runs.Length root settings.Repetitions settings.Seed (summary analysis) (skippedSection skipped)
    Files.writeFolder out (("analysis.md", Text.Encoding.UTF8.GetBytes text) :: files)
    printfn "%s" text
    for name, _ in files do
        printfn "wrote %s" (Path.Combine(out, name))
    0
