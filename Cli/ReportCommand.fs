/// `prunerl report`: rliable's aggregates (IQM, median, mean, optimality gap) over the runs and tasks of
/// a results folder, per group, with stratified-bootstrap intervals, performance profiles and the
/// probability of improvement of pruned over dense networks; a markdown summary, CSV tables and plots.
module Prunerl.Cli.ReportCommand

open System
open System.IO
open Argu
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Cli.UserError

[<RequireQualifiedAccess>]
type ReportArgs =
    | [<MainCommand; ExactlyOnce>] Results of directory: string
    | Out of directory: string
    | Group_By of keys: string
    | Scores of path: string
    | Score of source: string
    | Score_Window of fraction: float
    | Include_Unfinished
    | Reps of count: int
    | Seed of seed: int64

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Results _ -> "the results folder: runs (folders holding config.json) at any depth under it."
            | Out _ -> "folder for report.md, the CSV tables and the PNG plots (default <results>/report)."
            | Group_By _ -> "comma-separated config keys that form the groups; 'kind' is dense, pruned or the baseline (default kind,width; agent,kind,width when the runs train several agents)."
            | Scores _ -> "CSV file of normalisation scores, lines env,random,reference (reference empty: random-only); replaces the built-in ones for those envs."
            | Score _ -> "what a run is scored on: training (its training episodes' returns, as Dopamine's continuous_train and the paper), evaluation (its greedy evaluations), or auto (default: training when every run takes the dopamine preset, else evaluation)."
            | Score_Window _ -> "a run's score is the mean of its evaluations (or training returns) in this last fraction of its steps, at least the final one; 0 takes the final one (default 0.1)."
            | Include_Unfinished -> "take running and interrupted runs too (default: finished runs only)."
            | Reps _ -> sprintf "bootstrap repetitions per interval, 1 to %d (default 2000; rliable uses 50000)." AnalyzeCommand.maxReps
            | Seed _ -> "seed of the bootstrap (default 0)."

/// Thresholds of the performance profiles.
let private profilePoints = 101

let private readScales (args: ParseResults<ReportArgs>) =
    match args.TryGetResult ReportArgs.Scores with
    | None -> Normalization.builtIn
    | Some path ->
        let text =
            try File.ReadAllText path
            with :? IOException | :? UnauthorizedAccessException as e -> raise (UserError(sprintf "scores: cannot read %s: %s" path (e.Message.Split('\n').[0])))
        Normalization.overlay (Normalization.parse path text |> orFail) Normalization.builtIn

/// One task's results on its own, in its own units: each group's aggregates of raw scores, P(X > dense)
/// on the task, and each group's mean learning curve.
type private TaskResults =
    { Env: string
      Summaries: GroupSummary list
      Improvements: Improvement list
      Curves: Curve list }

/// Everything a report holds, computed before anything is written.
type private Computed =
    { Runs: Run list
      Skipped: (Run * string) list
      Scored: ScoredRun list
      /// The runs on tasks with a reference score: the only ones aggregated across tasks.
      Pooled: ScoredRun list
      /// Tasks without a reference score, reported on their own only.
      Alone: string list
      Tasks: TaskResults list
      Summaries: GroupSummary list
      Improvements: Improvement list
      Profiles: ProfileCurve list
      Learning: Curve list
      WidthScaling: GroupSummary list
      Sparsity: Curve list
      Analysis: (string * Curve list) list }

let private compute (settings: ReportSettings) (keys: string list) (runs: Run list) (skipped: (Run * string) list) =
    let scored = Report.score settings runs |> orFail
    let pooled, alone = Report.poolable settings.Scales scored
    let taus = Report.thresholds profilePoints pooled
    let sparsitySeries = runs |> List.choose (fun r -> r.Series.TryFind RunFormat.EvalSparsity |> Option.map (fun s -> r, s))
    let taskKeys = keys |> List.filter (fun k -> k <> "env")
    let tasks =
        [ for env, members in Report.perTask scored ->
            { Env = env
              Summaries = Report.summarise settings taskKeys members |> orFail
              Improvements = Report.improvements settings taskKeys members |> orFail
              Curves = Report.curves settings Aggregate.mean taskKeys (members |> List.map (fun s -> s.Run, s.Curve)) |> orFail } ]
    { Runs = runs
      Skipped = skipped
      Scored = scored
      Pooled = pooled
      Alone = alone
      Tasks = tasks
      Summaries = Report.summarise settings keys pooled |> orFail
      Improvements = Report.improvements settings keys pooled |> orFail
      Profiles = Report.profiles settings keys taus pooled |> orFail
      Learning = Report.curves settings Aggregate.iqm keys (pooled |> List.map (fun s -> s.Run, s.Curve)) |> orFail
      WidthScaling = Report.summarise settings (Report.defaultGroupFor runs) pooled |> orFail
      Sparsity = Report.curves settings Aggregate.mean [ "sparsity" ] sparsitySeries |> orFail
      Analysis = AnalyzeCommand.curves settings keys runs }

let private intervalCells (i: Interval) = [ Tables.number i.Estimate; Tables.number i.Lower; Tables.number i.Upper ]

let private aggregatesCsv (keys: string list) (summaries: GroupSummary list) =
    Tables.csv
        ([ "group" ] @ keys @ [ "runs"; "tasks" ]
         @ [ for m in [ "iqm"; "median"; "mean"; "optimality_gap" ] do yield! [ m; m + "_lower"; m + "_upper" ] ])
        [ for s in summaries ->
            [ Report.label s.Group ] @ (s.Group.Values |> List.map snd) @ [ string s.Runs; string s.Tasks ]
            @ intervalCells s.Iqm @ intervalCells s.Median @ intervalCells s.Mean @ intervalCells s.OptimalityGap ]

let private scoresCsv (keys: string list) (scored: ScoredRun list) =
    let columns = keys |> List.filter (fun k -> k <> "env" && k <> "seed")
    Tables.csv
        ([ "run"; "env"; "seed"; "state"; "group" ] @ columns @ [ "raw_score"; "normalised_score" ])
        [ for s in scored ->
            [ s.Run.Id; s.Env; Report.value "seed" s.Run; s.Run.State; Report.label (Report.groupOf keys s.Run) ]
            @ (columns |> List.map (fun k -> Report.value k s.Run)) @ [ Tables.number s.Raw; Tables.number s.Normalised ] ]

let private perTaskCsv (tasks: TaskResults list) =
    Tables.csv
        [ "env"; "group"; "runs"; "iqm"; "iqm_lower"; "iqm_upper"; "median"; "median_lower"; "median_upper"; "mean"; "mean_lower"; "mean_upper" ]
        [ for t in tasks do
            for s in t.Summaries -> [ t.Env; Report.label s.Group; string s.Runs ] @ intervalCells s.Iqm @ intervalCells s.Median @ intervalCells s.Mean ]

let private perTaskImprovementCsv (tasks: TaskResults list) =
    Tables.csv
        [ "env"; "x"; "y"; "probability"; "lower"; "upper" ]
        [ for t in tasks do
            for i in t.Improvements -> [ t.Env; Report.label i.Candidate; Report.label i.Baseline ] @ intervalCells i.Probability ]

let private perTaskCurvesCsv (tasks: TaskResults list) =
    Tables.csv
        [ "env"; "group"; "step"; "runs"; "mean"; "lower"; "upper" ]
        [ for t in tasks do
            for c in t.Curves do
                for p in c.Points -> [ t.Env; Report.label c.Group; string p.Step; string p.Runs ] @ intervalCells p.Value ]

let private improvementCsv (improvements: Improvement list) =
    Tables.csv
        [ "x"; "y"; "tasks"; "probability"; "lower"; "upper" ]
        [ for i in improvements -> [ Report.label i.Candidate; Report.label i.Baseline; string i.Tasks ] @ intervalCells i.Probability ]

let private profilesCsv (profiles: ProfileCurve list) =
    Tables.csv
        [ "group"; "threshold"; "fraction"; "lower"; "upper" ]
        [ for p in profiles do
            for tau, f in Array.zip p.Thresholds p.Fractions -> [ Report.label p.Group; Tables.number tau ] @ intervalCells f ]

let private curvesCsv (curves: Curve list) =
    Tables.csv
        [ "group"; "step"; "runs"; "iqm"; "lower"; "upper" ]
        [ for c in curves do
            for p in c.Points -> [ Report.label c.Group; string p.Step; string p.Runs ] @ intervalCells p.Value ]

/// Width-scaling points per kind (and agent, when the runs train several): (label, [(width, IQM interval,
/// runs)]) for numeric widths, from summaries grouped with width last.
let private widthPoints (summaries: GroupSummary list) =
    summaries
    |> List.choose (fun s ->
        match List.rev s.Group.Values with
        | (_, width) :: others ->
            match Double.TryParse(width, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
            | true, w -> Some(Report.label { Values = List.rev others }, (w, s))
            | _ -> None
        | [] -> None)
    |> List.groupBy fst
    |> List.map (fun (kind, points) -> kind, points |> List.map snd |> List.sortBy fst)

let private widthScalingCsv (summaries: GroupSummary list) =
    Tables.csv
        [ "kind"; "width"; "runs"; "tasks"; "iqm"; "lower"; "upper" ]
        [ for kind, points in widthPoints summaries do
            for width, s in points -> [ kind; Tables.number width; string s.Runs; string s.Tasks ] @ intervalCells s.Iqm ]

/// What a learning curve's points are, for titles: "evaluation returns" or "training returns (iteration means)".
let private curveWhat (settings: ReportSettings) =
    match settings.Source with
    | ScoreSource.Evaluation -> "evaluation returns"
    | ScoreSource.Training -> "training returns (iteration means)"

let private plots (settings: ReportSettings) (c: Computed) =
    let perTask =
        [ for t in c.Tasks ->
            sprintf "learning_curves_%s.png" (Plots.slug t.Env),
            Plots.chart (sprintf "%s: mean %s per group (95%% CI)" t.Env (curveWhat settings)) "agent step" "return" Plots.Band
                (t.Curves |> List.map (fun curve -> Plots.ofCurve (Report.label curve.Group) curve true)) ]
    let learning =
        Plots.chart (sprintf "Learning curves: IQM of normalised %s (95%% CI)" (curveWhat settings)) "agent step" "normalised score" Plots.Band
            (c.Learning |> List.map (fun curve -> Plots.ofCurve (Report.label curve.Group) curve true))
    let profiles =
        Plots.chart "Performance profiles: fraction of runs with score > tau (95% CI)" "normalised score tau" "fraction of runs" Plots.Band
            [ for p in c.Profiles ->
                { Label = Report.label p.Group
                  Xs = p.Thresholds
                  Ys = p.Fractions |> Array.map (fun f -> f.Estimate)
                  Interval = Some(p.Fractions |> Array.map (fun f -> f.Lower), p.Fractions |> Array.map (fun f -> f.Upper)) } ]
    let widths =
        match widthPoints c.WidthScaling with
        | [] -> []
        | kinds ->
            [ "width_scaling.png",
              Plots.chartWithTicks (Some(kinds |> List.collect (snd >> List.map fst) |> List.distinct |> List.sort |> Array.ofList))
                  "Final score against width: IQM of normalised scores (95% CI)" "width multiplier" "IQM normalised score" Plots.Bars
                  [ for kind, points in kinds ->
                      { Label = kind
                        Xs = points |> List.map fst |> Array.ofList
                        Ys = points |> List.map (fun (_, s) -> s.Iqm.Estimate) |> Array.ofList
                        Interval = Some(points |> List.map (fun (_, s) -> s.Iqm.Lower) |> Array.ofList, points |> List.map (fun (_, s) -> s.Iqm.Upper) |> Array.ofList) } ] ]
    let sparsity =
        if c.Sparsity.IsEmpty then []
        else
            [ "sparsity.png",
              Plots.chart "Sparsity measured at the evaluations (mean over runs)" "agent step" "sparsity" Plots.Band
                  (c.Sparsity |> List.map (fun curve -> Plots.ofCurve ("final " + Report.label curve.Group) curve false)) ]
    let pooled = if c.Pooled.IsEmpty then [] else [ "learning_curves.png", learning; "profiles.png", profiles ] @ widths
    pooled @ perTask @ sparsity

let private markdown (root: string) (settings: ReportSettings) (keys: string list) (c: Computed) (fileNames: string list) =
    let what = match settings.Source with ScoreSource.Evaluation -> "evaluations" | ScoreSource.Training -> "training episodes' returns"
    let window =
        match settings.Source, settings.ScoreWindow with
        | ScoreSource.Evaluation, 0.0 -> "its final evaluation (rliable's convention on Atari)"
        | ScoreSource.Training, 0.0 -> "the return of its last training episode"
        | _, w -> sprintf "the mean of its %s in the last %s%% of its steps (at least the last one)" what (Validate.show (100.0 * w))
    let source =
        match settings.Source with
        | ScoreSource.Training ->
            "Scores are **training returns**, as Dopamine's continuous_train reports them (the mean return of the episodes an iteration trained on; no separate evaluation) and the paper uses; learning curves are their means over 50 equal iterations of each run."
        | ScoreSource.Evaluation -> "Scores are **evaluation returns** (greedy episodes with epsilon_eval every eval_every steps)."
    let aggregates =
        Tables.markdown
            [ "group"; "runs"; "tasks"; "IQM [95% CI]"; "median [95% CI]"; "mean [95% CI]"; "optimality gap [95% CI]" ]
            [ "---"; "--:"; "--:"; "---"; "---"; "---"; "---" ]
            [ for s in c.Summaries ->
                [ Report.label s.Group; string s.Runs; string s.Tasks; Tables.interval s.Iqm; Tables.interval s.Median; Tables.interval s.Mean; Tables.interval s.OptimalityGap ] ]
    let improvement =
        if c.Improvements.IsEmpty then
            if List.contains Report.kindKey keys then "No group has a dense counterpart with the same other keys."
            else "Group by kind (--group-by kind,...) to compare pruned and baseline runs with dense ones."
        else
            Tables.markdown [ "X"; "Y"; "tasks"; "P(X > Y) [95% CI]" ] [ "---"; "---"; "--:"; "---" ]
                [ for i in c.Improvements -> [ Report.label i.Candidate; Report.label i.Baseline; string i.Tasks; Tables.interval i.Probability ] ]
    let perTask =
        [ for t in c.Tasks do
            yield sprintf "### %s" t.Env
            yield ""
            yield
                Tables.markdown [ "group"; "runs"; "IQM [95% CI]"; "median [95% CI]"; "mean [95% CI]" ] [ "---"; "--:"; "---"; "---"; "---" ]
                    [ for s in t.Summaries -> [ Report.label s.Group; string s.Runs; Tables.interval s.Iqm; Tables.interval s.Median; Tables.interval s.Mean ] ]
            if not t.Improvements.IsEmpty then
                yield ""
                yield
                    Tables.markdown [ "X"; "Y"; "P(X > Y) [95% CI]" ] [ "---"; "---"; "---" ]
                        [ for i in t.Improvements -> [ Report.label i.Candidate; Report.label i.Baseline; Tables.interval i.Probability ] ]
            yield ""
            yield sprintf "Curves: learning_curves_%s.png" (Plots.slug t.Env)
            yield "" ]
        |> String.concat "\n"
    let aloneLine =
        match c.Alone with
        | [] -> ""
        | alone ->
            sprintf "\nNot pooled: %s %s no reference score (a random-only scale in the game's own units), so %s reported per task only, never in the aggregates above."
                (String.concat ", " alone) (if alone.Length = 1 then "has" else "have") (if alone.Length = 1 then "it is" else "they are")
    let pooledSection =
        if c.Pooled.IsEmpty then
            "No run is on a task with a reference score, so nothing is aggregated across tasks: see the per-task results below (pass --scores FILE to give references)."
        else aggregates
    let used = c.Scored |> List.countBy (fun s -> s.Env) |> List.sortBy fst
    let normalisation =
        Tables.markdown [ "env"; "runs"; "normalised score"; "source" ] [ "---"; "--:"; "---"; "---" ]
            [ for env, n in used ->
                let scale = Normalization.find settings.Scales env |> orFail
                [ env; string n; Normalization.describe scale; scale.Source ] ]
    let randomOnly = used |> List.exists (fun (env, _) -> (Normalization.find settings.Scales env |> orFail).ReferenceScore.IsNone)
    String.concat "\n" [
        "# prunerl report"
        ""
        sprintf "%d runs from %s, grouped by %s, %d tasks." c.Runs.Length root (String.concat ", " keys) (used.Length)
        source
        sprintf "A run's score is %s, normalised per environment (below)." window
        sprintf "Aggregates over runs and tasks as rliable defines them; 95%% stratified-bootstrap percentile intervals from %d repetitions (rliable's default is 50,000), seed %d." settings.Repetitions settings.Seed
        ""
        "## Aggregates of normalised scores (tasks with a reference score)"
        ""
        pooledSection
        aloneLine
        ""
        "## Probability of improvement (tasks with a reference score)"
        ""
        (if c.Pooled.IsEmpty then "None: no task with a reference score." else improvement)
        ""
        "## Per task (raw scores, in each game's own units)"
        ""
        perTask
        ""
        "## Normalisation"
        ""
        normalisation
        (if randomOnly then "\nRandom-only environments have no reference score: their score is in the game's own units above random, so they are reported per task and never pooled. Pass --scores FILE to set references." else "")
        AnalyzeCommand.skippedSection c.Skipped
        ""
        "## Files"
        ""
        String.concat "\n" (fileNames |> List.map (fun f -> "- " + f))
        "" ]

/// Runs `prunerl report`.
let run (args: ParseResults<ReportArgs>) : int =
    let root = args.GetResult ReportArgs.Results
    let out = args.GetResult(ReportArgs.Out, Path.Combine(root, "report"))
    let scales = readScales args
    let source =
        match args.GetResult(ReportArgs.Score, "auto") with
        | "training" -> ScoreSource.Training
        | "evaluation" -> ScoreSource.Evaluation
        | "auto" ->
            // Dopamine's runs are scored as Dopamine scores them; any other run keeps greedy evaluation.
            if Results.find root |> List.forall (fun (r, _) -> r.Config.TryFind "preset" = Some "dopamine") then ScoreSource.Training
            else ScoreSource.Evaluation
        | other -> raise (UserError(sprintf "score must be training, evaluation or auto, got '%s'" other))
    let settings =
        AnalyzeCommand.settingsOf (args.GetResult(ReportArgs.Reps, 2000)) (args.GetResult(ReportArgs.Seed, 0L)) source
            (Validate.inClosed "score_window" 0.0 1.0 (args.GetResult(ReportArgs.Score_Window, 0.1)) |> orFail) scales
    let runs, skipped = Results.gather root (args.Contains ReportArgs.Include_Unfinished) (Report.metricOf source) (fun _ -> "")
    let keys = AnalyzeCommand.parseKeys (args.GetResult(ReportArgs.Group_By, String.concat "," (Report.defaultGroupFor runs)))
    Report.checkGroupBy runs keys |> orFail |> ignore
    let c = compute settings keys runs skipped
    let tables =
        [ "aggregates.csv", aggregatesCsv keys c.Summaries
          "scores.csv", scoresCsv keys c.Scored
          "improvement.csv", improvementCsv c.Improvements
          "profiles.csv", profilesCsv c.Profiles
          "learning_curves.csv", curvesCsv c.Learning
          "width_scaling.csv", widthScalingCsv c.WidthScaling
          "per_task.csv", perTaskCsv c.Tasks
          "per_task_improvement.csv", perTaskImprovementCsv c.Tasks
          "per_task_curves.csv", perTaskCurvesCsv c.Tasks ]
    let analysis = if c.Analysis.IsEmpty then [] else AnalyzeCommand.render keys c.Analysis
    let files = tables @ plots settings c @ analysis
    let text = markdown root settings keys c ("report.md" :: (files |> List.map fst))
    Files.writeFolder out (("report.md", Text.Encoding.UTF8.GetBytes text) :: files)
    printfn "%s" text
    printfn "wrote %d files to %s" (files.Length + 1) out
    0
