namespace Prunerl.Experiments.Metrics

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// Scores of runs on tasks, indexed [task][run] (tasks may have different numbers of runs), usually
/// normalised: (score - random) / (reference - random).
type Scores = float[][]

/// The aggregate metrics of rliable (Agarwal, Schwarzer, Castro, Courville, Bellemare 2021, "Deep
/// reinforcement learning at the edge of the statistical precipice"), with its exact definitions.
[<RequireQualifiedAccess>]
module Aggregate =

    /// (score - random) / (reference - random).
    let normalise (random: float) (reference: float) (score: float) = (score - random) / (reference - random)

    let private taskMeans (scores: Scores) = scores |> Array.map Array.average

    /// The median of a sample, averaging the two middle values of an even count (numpy.median).
    let private medianOf (xs: float[]) =
        let sorted = Array.sort xs
        let n = sorted.Length
        if n % 2 = 1 then sorted[n / 2] else (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0

    /// The mean over tasks of each task's mean score (rliable's aggregate_mean).
    let mean (scores: Scores) = taskMeans scores |> Array.average

    /// The median over tasks of each task's mean score (rliable's aggregate_median).
    let median (scores: Scores) = taskMeans scores |> medianOf

    /// The interquartile mean of all run-task scores together: sort the n scores, drop floor(n / 4)
    /// from each end, average the rest (scipy.stats.trim_mean with proportiontocut 0.25).
    let iqm (scores: Scores) =
        let all = Array.concat scores |> Array.sort
        let cut = all.Length / 4
        all[cut .. all.Length - cut - 1] |> Array.average

    /// How far the scores fall short of gamma on average: gamma - mean(min(score, gamma)) over all
    /// run-task scores (rliable's aggregate_optimality_gap; gamma = 1 for normalised scores).
    let optimalityGap (gamma: float) (scores: Scores) =
        gamma - (Array.concat scores |> Array.averageBy (fun x -> min x gamma))

    /// Checks that every task has at least one run and every score is a number.
    let validate (scores: Scores) : Result<Scores, string> =
        if scores.Length = 0 then Error "scores: no tasks"
        elif scores |> Array.exists Array.isEmpty then Error "scores: a task has no runs"
        elif scores |> Array.exists (Array.exists Double.IsNaN) then Error "scores: a score is NaN"
        else Ok scores

/// A point estimate with its confidence interval.
type Interval =
    { /// The aggregate of the scores themselves.
      Estimate: float
      /// The lower end of the interval.
      Lower: float
      /// The upper end of the interval.
      Upper: float }

/// Stratified bootstrap confidence intervals, as rliable's StratifiedBootstrap: each repetition
/// resamples every task's runs with replacement (tasks are the strata) and recomputes the aggregate;
/// the interval is the percentile interval of those repetitions.
[<RequireQualifiedAccess>]
module Bootstrap =

    /// rliable's default number of repetitions.
    let defaultRepetitions = 50_000

    /// The q-th quantile (0 &lt;= q &lt;= 1) of a sample by linear interpolation between order
    /// statistics (numpy.percentile's default).
    let quantile (q: float) (sample: float[]) =
        let sorted = Array.sort sample
        let position = q * float (sorted.Length - 1)
        let below = int (floor position)
        let above = min (below + 1) (sorted.Length - 1)
        sorted[below] + (position - float below) * (sorted[above] - sorted[below])

    /// One stratified resample of the scores, and the stream after it.
    let resample (scores: Scores) (rng: Rng) : Scores * Rng =
        let mutable rng = rng
        let drawn =
            scores
            |> Array.map (fun runs ->
                Array.init runs.Length (fun _ ->
                    let index, next = Rng.nextBelow runs.Length rng
                    rng <- next
                    runs[index]))
        drawn, rng

    /// The aggregate over `repetitions` stratified resamples drawn from the seed's stream (any result
    /// type: a vector aggregate such as a performance profile gives one array per resample).
    let replicate (aggregate: Scores -> 'T) (repetitions: int) (seed: uint64) (scores: Scores) : 'T[] =
        let out = Array.zeroCreate repetitions
        let mutable rng = Rng.create seed
        for k in 0 .. repetitions - 1 do
            let sample, next = resample scores rng
            rng <- next
            out[k] <- aggregate sample
        out

    /// The percentile interval at the given confidence: the (1 - c)/2 and (1 + c)/2 quantiles of the
    /// bootstrap replicates, around the point estimate computed on the scores themselves.
    let percentileInterval (confidence: float) (estimate: float) (replicates: float[]) : Interval =
        let tail = (1.0 - confidence) / 2.0
        { Estimate = estimate; Lower = quantile tail replicates; Upper = quantile (1.0 - tail) replicates }

    let private checkSettings (confidence: float) (repetitions: int) =
        result {
            let! _ = inHalfOpen "confidence" 0.0 1.0 confidence
            let! _ = atLeast "repetitions" 1L (int64 repetitions)
            return ()
        }

    /// Point estimates and stratified-bootstrap percentile intervals of a vector of aggregates computed
    /// from the same resamples (as rliable's get_interval_estimates with a function returning an array):
    /// component j's interval is the percentile interval of the j-th values of the replicates.
    let intervals (aggregate: Scores -> float[]) (confidence: float) (repetitions: int) (seed: uint64) (scores: Scores) : Result<Interval[], string> =
        result {
            let! scores = Aggregate.validate scores
            do! checkSettings confidence repetitions
            let estimates = aggregate scores
            let replicates = replicate aggregate repetitions seed scores
            return estimates |> Array.mapi (fun j estimate -> percentileInterval confidence estimate (replicates |> Array.map (fun r -> r[j])))
        }

    /// The aggregate's point estimate and its stratified-bootstrap percentile interval at the given
    /// confidence (0.95 in rliable), from the given number of repetitions and seed.
    let interval (aggregate: Scores -> float) (confidence: float) (repetitions: int) (seed: uint64) (scores: Scores) : Result<Interval, string> =
        intervals (fun s -> [| aggregate s |]) confidence repetitions seed scores |> Result.map Array.exactlyOne

    /// A statistic of two sets of scores with its percentile interval from independent stratified
    /// resamples of each (rliable's StratifiedIndependentBootstrap, used for the probability of
    /// improvement): each repetition resamples x's runs within each task, then y's, from one stream.
    let pairInterval (statistic: Scores -> Scores -> float) (confidence: float) (repetitions: int) (seed: uint64) (x: Scores) (y: Scores) : Result<Interval, string> =
        result {
            let! x = Aggregate.validate x
            let! y = Aggregate.validate y
            do! checkSettings confidence repetitions
            let replicates =
                Array.unfold (fun (k, rng) ->
                    if k = repetitions then None
                    else
                        let xs, afterX = resample x rng
                        let ys, afterY = resample y afterX
                        Some(statistic xs ys, (k + 1, afterY))) (0, Rng.create seed)
            return percentileInterval confidence (statistic x y) replicates
        }

/// Performance profiles and the probability of improvement (rliable).
[<RequireQualifiedAccess>]
module Profile =

    /// For each threshold tau, the fraction of runs scoring above tau, per task and then averaged over
    /// tasks (rliable's run-score distribution; the same as over all runs when tasks have equal runs).
    let runScoreDistribution (thresholds: float[]) (scores: Scores) : float[] =
        thresholds
        |> Array.map (fun tau ->
            scores |> Array.averageBy (fun runs -> runs |> Array.averageBy (fun x -> if x > tau then 1.0 else 0.0)))

    /// P(X > Y) without checks: per task the Mann-Whitney statistic over all pairs of runs (a win counts
    /// 1, a tie 1/2) divided by the number of pairs, averaged over tasks.
    let private improvement (x: Scores) (y: Scores) =
        let perTask (xs: float[]) (ys: float[]) =
            let mutable wins = 0.0
            for a in xs do
                for b in ys do
                    wins <- wins + (if a > b then 1.0 elif a = b then 0.5 else 0.0)
            wins / float (xs.Length * ys.Length)
        Array.map2 perTask x y |> Array.average

    let private sameTasks (x: Scores) (y: Scores) =
        result {
            let! x = Aggregate.validate x
            let! y = Aggregate.validate y
            if x.Length <> y.Length then
                return! Error(sprintf "scores: %d tasks against %d; both sides need the same tasks" x.Length y.Length)
        }

    /// P(X > Y): per task the Mann-Whitney statistic over all pairs of runs (a win counts 1, a tie 1/2)
    /// divided by the number of pairs, averaged over tasks (rliable's probability_of_improvement). Task
    /// t of x is compared with task t of y.
    let probabilityOfImprovement (x: Scores) (y: Scores) : Result<float, string> =
        sameTasks x y |> Result.map (fun () -> improvement x y)

    /// P(X > Y) with its percentile interval from independent stratified resamples of x and y (rliable
    /// computes the probability of improvement's interval this way).
    let probabilityOfImprovementInterval (confidence: float) (repetitions: int) (seed: uint64) (x: Scores) (y: Scores) : Result<Interval, string> =
        sameTasks x y |> Result.bind (fun () -> Bootstrap.pairInterval improvement confidence repetitions seed x y)
