namespace Prunerl.Experiments

open System
open System.Globalization
open Prunerl.Experiments.Metrics
open Prunerl.Core
open Prunerl.Core.Validate

/// One value of a metric: the agent step it was measured at, and the value.
[<Struct>]
type Point =
    { /// The agent step.
      Step: int64
      /// The measured value.
      Value: float }

/// A training run as a results folder records it (config.json, status.json, metrics.csv).
type Run =
    { /// Where the run lives, relative to the results folder, '/'-separated; runs are ordered by it.
      Id: string
      /// config.json's fields as text; numbers in their shortest round-trip form ("1" for 1.0).
      Config: Map<string, string>
      /// status.json's state as RunFormat spells it (finished, failed, ...), or "unknown" without one.
      State: string
      /// metrics.csv's series by metric name, each in step order (empty until read).
      Series: Map<string, Point[]> }

/// A group of runs: the value of each grouping key, in the order the keys were named.
type Group =
    { /// (key, value) pairs.
      Values: (string * string) list }

/// Where a run's score and learning curve come from.
[<RequireQualifiedAccess>]
type ScoreSource =
    /// The returns of its training episodes (train/episode_return): Dopamine's continuous_train scores an
    /// iteration by the mean return of the episodes it trained on, with no separate evaluation phase
    /// (dopamine/discrete_domains/run_experiment.py, TrainRunner: `average_return = sum_returns / num_episodes`,
    /// logged as train_average_return); the paper reports it. The learning curve is its mean per iteration
    /// (Report.iterations equal spans of the run).
    | Training
    /// Its greedy evaluations (eval/return, epsilon_eval episodes every eval_every steps).
    | Evaluation

/// How a report scores runs and computes its intervals (the grouping keys are passed on their own:
/// one report groups the same scores several ways).
type ReportSettings =
    { /// What a run is scored on: its training episodes or its evaluations.
      Source: ScoreSource
      /// The fraction of a run's steps whose evaluations (or training episodes) make its score; 0 takes the final one.
      ScoreWindow: float
      /// The confidence of the intervals (0.95).
      Confidence: float
      /// Bootstrap repetitions per interval.
      Repetitions: int
      /// The seed of every bootstrap.
      Seed: uint64
      /// Each environment's normalisation.
      Scales: ScoreScale list }

/// A run's score on its task.
type ScoredRun =
    { /// The run.
      Run: Run
      /// Its task (environment id).
      Env: string
      /// The score in the environment's units.
      Raw: float
      /// The score on the environment's scale (Normalization.normalise).
      Normalised: float
      /// The learning curve, normalised the same way: every evaluation, or the training returns' mean per iteration.
      Curve: Point[]
      /// The learning curve in the environment's units.
      RawCurve: Point[] }

/// A group's aggregate metrics over its runs and tasks, with their intervals.
type GroupSummary =
    { /// The group.
      Group: Group
      /// Runs in the group.
      Runs: int
      /// Tasks (environments) among them.
      Tasks: int
      /// Interquartile mean of all run-task scores.
      Iqm: Interval
      /// Median of the task means.
      Median: Interval
      /// Mean of the task means.
      Mean: Interval
      /// Optimality gap with gamma = 1.
      OptimalityGap: Interval }

/// P(candidate > baseline) over the tasks both groups ran.
type Improvement =
    { /// The group compared (pruned, or a baseline method).
      Candidate: Group
      /// The dense group with the same other key values.
      Baseline: Group
      /// Tasks both ran.
      Tasks: int
      /// The probability of improvement and its interval.
      Probability: Interval }

/// A group's performance profile: the fraction of runs above each threshold, with intervals.
type ProfileCurve =
    { /// The group.
      Group: Group
      /// The thresholds tau.
      Thresholds: float[]
      /// The run-score distribution at each threshold.
      Fractions: Interval[] }

/// An aggregate of a metric over a group's runs at one step.
type CurvePoint =
    { /// The agent step.
      Step: int64
      /// Runs measured at this step.
      Runs: int
      /// The aggregate and its interval.
      Value: Interval }

/// A group's aggregate of a metric over training.
type Curve =
    { /// The group.
      Group: Group
      /// The steps in order.
      Points: CurvePoint[] }

/// Reports over a set of runs, as rliable recommends (Agarwal et al. 2021): each run scored on its
/// task, normalised per environment, grouped by config keys, and aggregated over runs and tasks with
/// stratified-bootstrap intervals. Runs are always taken in Id order and tasks in name order, so a
/// report does not depend on the order in which runs were found.
[<RequireQualifiedAccess>]
module Report =

    /// The derived grouping key: "dense", "pruned" (sparsity > 0, gradual magnitude pruning), the other sparse methods ("static", "lottery", "SET", "RigL"), or the baseline ("ReDo", "Reset").
    let kindKey = "kind"

    /// The default grouping: pruned vs dense (and baselines) per width.
    let defaultGroupBy = [ kindKey; "width" ]

    /// The metric a run's score comes from when scored on evaluations.
    let evaluationMetric = RunFormat.EvalReturn

    /// The metric a run's score comes from when scored on training episodes.
    let trainingMetric = RunFormat.TrainEpisodeReturn

    /// The metric a score source reads.
    let metricOf (source: ScoreSource) : string =
        match source with
        | ScoreSource.Training -> trainingMetric
        | ScoreSource.Evaluation -> evaluationMetric

    /// Iterations a run's training returns are averaged over for its learning curve (equal spans of its steps;
    /// 50 gives Dopamine-like iterations of 20k steps in a 1M-step run).
    let iterations = 50

    /// The mean of the values in each of `count` equal spans of (0, total] (span k holds steps in
    /// (k s, (k + 1) s], s = total / count; the last span also takes steps beyond total), at the span's end
    /// step; spans with no value are left out. The points must be in step order.
    let iterationMeans (total: int64) (count: int) (points: Point[]) : Point[] =
        let count = max 1 count
        let span = float (max 1L total) / float count
        let spanOf (step: int64) = min (count - 1) (max 0 (int (ceil (float step / span)) - 1))
        points
        |> Array.groupBy (fun p -> spanOf p.Step)
        |> Array.sortBy fst
        |> Array.map (fun (k, ps) -> { Step = int64 (Math.Round(span * float (k + 1))); Value = ps |> Array.averageBy (fun p -> p.Value) })

    let private number (text: string) =
        match Double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, x -> Some x
        | _ -> None

    /// A sparse run's kind by its sparse-training method: "pruned" for gmp (and a config.json without a method,
    /// written before there were others), "static", "lottery", "SET" or "RigL" (as Graesser et al. 2022 name them).
    let methodKind (config: Map<string, string>) : string =
        match config.TryFind "method" |> Option.map (fun m -> m.ToLowerInvariant()) with
        | None
        | Some "gmp" -> "pruned"
        | Some "set" -> "SET"
        | Some "rigl" -> "RigL"
        | Some other -> other

    /// A run's kind: its baseline method when it has one (baseline "redo" is ReDo, "reset" Reset, "wd" WD,
    /// "l2" L2; a sparse run with weight decay or L2 is its method's kind (methodKind) with "+WD" or "+L2",
    /// "pruned+WD" say), else its method's kind when its final sparsity is above 0 ("pruned" for gmp, "SET",
    /// ...), else "dense".
    let kind (config: Map<string, string>) : string =
        let pruned = config.TryFind "sparsity" |> Option.bind number |> Option.exists (fun s -> s > 0.0)
        let sparse = methodKind config
        match config.TryFind "baseline" |> Option.map (fun b -> b.ToLowerInvariant()) with
        | Some "redo" -> "ReDo"
        | Some "reset" -> "Reset"
        | Some "wd" -> if pruned then sparse + "+WD" else "WD"
        | Some "l2" -> if pruned then sparse + "+L2" else "L2"
        | Some other when other <> "none" && other <> "" && other <> "null" -> other
        | _ -> if pruned then sparse else "dense"

    /// A run's value for a key: its kind for "kind", else the config field ("-" when it has none).
    let value (key: string) (run: Run) : string =
        if key = kindKey then kind run.Config else run.Config.TryFind key |> Option.defaultValue "-"

    /// The grouping when none is asked for: defaultGroupBy, with "agent" first when the runs train more
    /// than one agent (runs of different agents are never pooled unless asked for).
    let defaultGroupFor (runs: Run list) : string list =
        if (runs |> List.map (value "agent") |> List.distinct |> List.length) > 1 then "agent" :: defaultGroupBy
        else defaultGroupBy

    /// A run's environment (config "env").
    let env (run: Run) : string = value "env" run

    /// The group a run falls in under the keys.
    let groupOf (keys: string list) (run: Run) : Group = { Values = keys |> List.map (fun k -> k, value k run) }

    /// A group as people read it: "pruned, width=1" (the kind bare, other keys as key=value).
    let label (group: Group) : string =
        match group.Values with
        | [] -> "all runs"
        | values -> values |> List.map (fun (k, v) -> if k = kindKey then v else k + "=" + v) |> String.concat ", "

    /// Orders values numerically when both are numbers (width 2 before 10), else ordinally.
    let private compareValue (a: string) (b: string) =
        match number a, number b with
        | Some x, Some y -> compare x y
        | Some _, None -> -1
        | None, Some _ -> 1
        | None, None -> String.CompareOrdinal(a, b)

    /// Kinds in reading order: dense, pruned, then the baselines by name.
    let private kindRank (kind: string) = match kind with "dense" -> 0 | "pruned" -> 1 | _ -> 2

    /// Groups in key order: kinds dense, pruned, then baselines; other values numerically where both
    /// are numbers (width 2 before 10), else ordinally.
    let compareGroups (a: Group) (b: Group) : int =
        List.zip a.Values b.Values
        |> List.fold (fun order ((key, x), (_, y)) ->
            if order <> 0 then order
            elif key = kindKey then compare (kindRank x, x) (kindRank y, y)
            else compareValue x y) 0

    /// The keys runs can be grouped by: "kind" and every key of their configs.
    let keys (runs: Run list) : string list =
        kindKey :: (runs |> List.collect (fun r -> r.Config |> Map.toList |> List.map fst) |> List.distinct |> List.sort)

    /// Checks grouping keys against the runs' keys.
    let checkGroupBy (runs: Run list) (groupBy: string list) : Result<string list, string> =
        let known = keys runs
        match groupBy |> List.tryFind (fun k -> not (List.contains k known)) with
        | _ when List.isEmpty groupBy -> Error(sprintf "group_by must name at least one key; allowed: %s" (String.concat ", " known))
        | Some unknown -> Error(sprintf "group_by: unknown key '%s'; allowed: %s" unknown (String.concat ", " known))
        | None when List.distinct groupBy <> groupBy -> Error "group_by: a key is named twice"
        | None -> Ok groupBy

    /// Runs in Id order split into those a report takes and those it skips with the reason: only
    /// finished runs unless unfinished ones are asked for (failed runs are always skipped).
    let selectFinished (includeUnfinished: bool) (runs: Run list) : Run list * (Run * string) list =
        let taken, skipped =
            runs
            |> List.sortWith (fun a b -> String.CompareOrdinal(a.Id, b.Id))
            |> List.partition (fun r ->
                r.State = RunFormat.stateName RunState.Finished || (includeUnfinished && r.State <> RunFormat.stateName RunState.Failed))
        taken, skipped |> List.map (fun r -> r, r.State)

    /// Runs split into those with at least one value of the metric and those without.
    let selectMeasured (metric: string) (runs: Run list) : Run list * (Run * string) list =
        let has (r: Run) = r.Series.TryFind metric |> Option.exists (Array.isEmpty >> not)
        let taken, skipped = runs |> List.partition has
        taken, skipped |> List.map (fun r -> r, sprintf "%s: no %s in metrics.csv" r.State metric)

    /// A run's length in agent steps: config "steps", else its last measured step.
    let totalSteps (run: Run) : int64 =
        match run.Config.TryFind "steps" |> Option.bind number with
        | Some steps -> int64 steps
        | None -> run.Series |> Map.toSeq |> Seq.collect snd |> Seq.fold (fun m p -> max m p.Step) 0L

    /// A run's score: the mean of its evaluations at steps after (1 - window) * totalSteps, and at least
    /// its last evaluation; window 0 is the final evaluation (rliable's convention on Atari), 0.1 the
    /// last 10% of training. The evaluations must be in step order and not empty.
    let runScore (window: float) (totalSteps: int64) (evaluations: Point[]) : float =
        let from = (1.0 - window) * float totalSteps
        match evaluations |> Array.filter (fun p -> float p.Step > from) with
        | [||] -> (Array.last evaluations).Value
        | late -> late |> Array.averageBy (fun p -> p.Value)

    /// Scores runs that have the source's metric: each run's score (runScore over its evaluations or its
    /// training episodes' returns) raw and normalised on its environment's scale, with its learning curve
    /// (the evaluations, or the training returns' iteration means) raw and normalised.
    let score (settings: ReportSettings) (runs: Run list) : Result<ScoredRun list, string> =
        let metric = metricOf settings.Source
        let one (run: Run) =
            result {
                let! scale = Normalization.find settings.Scales (env run)
                let points = run.Series.TryFind metric |> Option.defaultValue [||]
                if points.Length = 0 then return! Error(sprintf "%s: no %s" run.Id metric)
                else
                    let raw = runScore settings.ScoreWindow (totalSteps run) points
                    let curve =
                        match settings.Source with
                        | ScoreSource.Evaluation -> points
                        | ScoreSource.Training -> iterationMeans (totalSteps run) iterations points
                    return
                        { Run = run
                          Env = scale.Env
                          Raw = raw
                          Normalised = Normalization.normalise scale raw
                          Curve = curve |> Array.map (fun p -> { p with Value = Normalization.normalise scale p.Value })
                          RawCurve = curve }
            }
        result {
            let! _ = inClosed "score_window" 0.0 1.0 settings.ScoreWindow
            let! scored = traverse one (runs |> List.sortWith (fun a b -> String.CompareOrdinal(a.Id, b.Id)))
            return scored
        }

    /// Scored runs split into those on a task with a reference score (normalised to 0..1, fit to pool across
    /// tasks as rliable assumes) and the tasks without one (in name order), which are reported on their own:
    /// a random-only scale is in the game's own units, and pooling it with others lets the high-scoring
    /// games decide the aggregate.
    let poolable (scales: ScoreScale list) (scored: ScoredRun list) : ScoredRun list * string list =
        let referenced (s: ScoredRun) =
            scales |> List.exists (fun scale -> scale.Env = s.Env && scale.ReferenceScore.IsSome)
        let pooled, alone = scored |> List.partition referenced
        pooled, alone |> List.map (fun s -> s.Env) |> List.distinct |> List.sort

    /// Scored runs of each task (in name order) with their raw scores in the place of the normalised ones,
    /// for per-task tables: a task's aggregates are then in its own units.
    let perTask (scored: ScoredRun list) : (string * ScoredRun list) list =
        scored
        |> List.groupBy (fun s -> s.Env)
        |> List.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(a, b))
        |> List.map (fun (task, members) -> task, members |> List.map (fun s -> { s with Normalised = s.Raw; Curve = s.RawCurve }))

    /// Items grouped under the keys, groups in compareGroups order, items in their given order.
    let private grouped (keys: string list) (runOf: 'T -> Run) (items: 'T list) : (Group * 'T list) list =
        items |> List.groupBy (runOf >> groupOf keys) |> List.sortWith (fun (a, _) (b, _) -> compareGroups a b)

    /// Scores by task (environment, in name order) and run (in Id order).
    let private byTask (items: (string * float) list) : string[] * Scores =
        let tasks = items |> List.groupBy fst |> List.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(a, b))
        tasks |> List.map fst |> Array.ofList, tasks |> List.map (fun (_, xs) -> xs |> List.map snd |> Array.ofList) |> Array.ofList

    let private sortedById (scored: ScoredRun list) = scored |> List.sortWith (fun a b -> String.CompareOrdinal(a.Run.Id, b.Run.Id))

    /// Each group's IQM, median, mean and optimality gap (gamma 1) of normalised scores with
    /// stratified-bootstrap intervals, all four from the same resamples.
    let summarise (settings: ReportSettings) (keys: string list) (scored: ScoredRun list) : Result<GroupSummary list, string> =
        let one (group: Group, members: ScoredRun list) =
            result {
                let _, scores = byTask (members |> List.map (fun s -> s.Env, s.Normalised))
                let aggregates (s: Scores) = [| Aggregate.iqm s; Aggregate.median s; Aggregate.mean s; Aggregate.optimalityGap 1.0 s |]
                let! intervals = Bootstrap.intervals aggregates settings.Confidence settings.Repetitions settings.Seed scores
                return
                    { Group = group
                      Runs = members.Length
                      Tasks = scores.Length
                      Iqm = intervals[0]
                      Median = intervals[1]
                      Mean = intervals[2]
                      OptimalityGap = intervals[3] }
            }
        traverse one (grouped keys (fun s -> s.Run) (sortedById scored))

    /// P(X > Y) of every group that is not dense (pruned, ReDo, Reset) against the dense group with the
    /// same values of the other keys, over the tasks both ran; none when "kind" is not a grouping key.
    let improvements (settings: ReportSettings) (keys: string list) (scored: ScoredRun list) : Result<Improvement list, string> =
        let groups = grouped keys (fun s -> s.Run) (sortedById scored)
        let withKind (kindValue: string) (group: Group) =
            { Values = group.Values |> List.map (fun (k, v) -> if k = kindKey then k, kindValue else k, v) }
        let pairs =
            if not (List.contains kindKey keys) then []
            else
                [ for group, members in groups do
                    if withKind "dense" group <> group then
                        match groups |> List.tryFind (fun (g, _) -> g = withKind "dense" group) with
                        | Some(baseline, denseMembers) -> (group, members), (baseline, denseMembers)
                        | None -> () ]
        let one ((candidate: Group, x: ScoredRun list), (baseline: Group, y: ScoredRun list)) =
            let common = Set.intersect (x |> List.map (fun s -> s.Env) |> Set.ofList) (y |> List.map (fun s -> s.Env) |> Set.ofList)
            let scores (members: ScoredRun list) =
                byTask (members |> List.filter (fun s -> common.Contains s.Env) |> List.map (fun s -> s.Env, s.Normalised)) |> snd
            if common.IsEmpty then Ok None
            else
                Profile.probabilityOfImprovementInterval settings.Confidence settings.Repetitions settings.Seed (scores x) (scores y)
                |> Result.map (fun p -> Some { Candidate = candidate; Baseline = baseline; Tasks = common.Count; Probability = p })
        traverse one pairs |> Result.map (List.choose id)

    /// count evenly spaced thresholds from min(0, lowest score) to max(1, highest score).
    let thresholds (count: int) (scored: ScoredRun list) : float[] =
        let all = scored |> List.map (fun s -> s.Normalised)
        let lo = List.fold min 0.0 all
        let hi = List.fold max 1.0 all
        Array.init count (fun i -> if count = 1 then lo else lo + (hi - lo) * float i / float (count - 1))

    /// Each group's performance profile (the run-score distribution over the thresholds) with pointwise
    /// stratified-bootstrap intervals, as rliable's create_performance_profile.
    let profiles (settings: ReportSettings) (keys: string list) (taus: float[]) (scored: ScoredRun list) : Result<ProfileCurve list, string> =
        let one (group: Group, members: ScoredRun list) =
            let _, scores = byTask (members |> List.map (fun s -> s.Env, s.Normalised))
            Bootstrap.intervals (Profile.runScoreDistribution taus) settings.Confidence settings.Repetitions settings.Seed scores
            |> Result.map (fun fractions -> { Group = group; Thresholds = taus; Fractions = fractions })
        traverse one (grouped keys (fun s -> s.Run) (sortedById scored))

    /// Each group's aggregate of a series over training: at every step where any of its runs has a
    /// value, the aggregate over those runs (tasks = environments) with its stratified-bootstrap
    /// interval. Non-finite values (NaN from a diverged run) are left out.
    let curves (settings: ReportSettings) (aggregate: Scores -> float) (keys: string list) (series: (Run * Point[]) list) : Result<Curve list, string> =
        let one (group: Group, members: (Run * Point[]) list) =
            let members = members |> List.map (fun (run, points) -> run, points |> Array.filter (fun p -> Double.IsFinite p.Value))
            let steps = members |> List.collect (fun (_, points) -> points |> Array.map (fun p -> p.Step) |> List.ofArray) |> List.distinct |> List.sort
            let lookups = members |> List.map (fun (run, points) -> env run, points |> Array.map (fun p -> p.Step, p.Value) |> dict)
            let at (step: int64) =
                let present = lookups |> List.choose (fun (task, values) -> match values.TryGetValue step with | true, v -> Some(task, v) | _ -> None)
                let _, scores = byTask present
                Bootstrap.interval aggregate settings.Confidence settings.Repetitions settings.Seed scores
                |> Result.map (fun value -> { Step = step; Runs = present.Length; Value = value })
            traverse at steps |> Result.map (fun points -> { Group = group; Points = Array.ofList points })
        let ordered = series |> List.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(a.Id, b.Id))
        traverse one (grouped keys fst ordered)
