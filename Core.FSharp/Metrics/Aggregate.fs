namespace Prunerl.Core.Metrics

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

    /// The aggregate over `repetitions` stratified resamples drawn from the seed's stream.
    let replicate (aggregate: Scores -> float) (repetitions: int) (seed: uint64) (scores: Scores) : float[] =
        let out = Array.zeroCreate repetitions
        let mutable rng = Rng.create seed
        for k in 0 .. repetitions - 1 do
            let sample, next = resample scores rng
            rng <- next
            out[k] <- aggregate sample
        out

    /// The aggregate's point estimate and its stratified-bootstrap percentile interval at the given
    /// confidence (0.95 in rliable), from the given number of repetitions and seed.
    let interval (aggregate: Scores -> float) (confidence: float) (repetitions: int) (seed: uint64) (scores: Scores) : Result<Interval, string> =
        result {
            let! scores = Aggregate.validate scores
            let! confidence = inHalfOpen "confidence" 0.0 1.0 confidence
            let! repetitions = atLeast "repetitions" 1L (int64 repetitions)
            let replicates = replicate aggregate (int repetitions) seed scores
            let tail = (1.0 - confidence) / 2.0
            return { Estimate = aggregate scores; Lower = quantile tail replicates; Upper = quantile (1.0 - tail) replicates }
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

    /// P(X > Y): per task the Mann-Whitney statistic over all pairs of runs (a win counts 1, a tie 1/2)
    /// divided by the number of pairs, averaged over tasks (rliable's probability_of_improvement).
    let probabilityOfImprovement (x: Scores) (y: Scores) : Result<float, string> =
        result {
            let! x = Aggregate.validate x
            let! y = Aggregate.validate y
            if x.Length <> y.Length then
                return! Error(sprintf "scores: %d tasks against %d; both sides need the same tasks" x.Length y.Length)
            else
                let perTask (xs: float[]) (ys: float[]) =
                    let wins =
                        Seq.sum (seq { for a in xs do for b in ys -> if a > b then 1.0 elif a = b then 0.5 else 0.0 })
                    wins / float (xs.Length * ys.Length)
                return Array.map2 perTask x y |> Array.average
        }
