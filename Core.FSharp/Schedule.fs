namespace Prunerl.Core

open System
open Prunerl.Core.Validate

/// A point in training, given as an absolute step or as a fraction of the total number of steps.
[<RequireQualifiedAccess>]
type StepPoint =
    /// A step number, counted from 0.
    | Absolute of step: int64
    /// A fraction of the training length in [0, 1], rounded to the nearest step.
    | Fraction of fraction: float

/// How sparsity rises from s_i to s_f as pruning progresses: s = s_f + (s_i - s_f) * shape(p), where
/// the shape falls from 1 at progress p = 0 to 0 at p = 1.
type Ramp =
    /// shape(p) = (1 - p)^power: the polynomial schedule of Zhu and Gupta (2017), "To prune, or not to
    /// prune", eq. 1; the paper uses power 3. Power 1 is the linear schedule.
    | Polynomial of power: float
    /// shape(p) = (1 + cos(pi * p)) / 2.
    | Cosine

/// Whose counting of steps and mask updates to follow, so results can be matched exactly.
type Convention =
    /// Zhu and Gupta (2017): p = (t - t_start) / (t_end - t_start); masks are recomputed at t_start,
    /// every update period after it, and at t_end, so s(t_start) = s_i and s(t_end) = s_f exactly.
    | ZhuGupta
    /// JaxPruner (PolynomialSchedule, the library the paper's code uses): sparsity starts from 0,
    /// p = clip(t + 1 - t_start, 0, L) / L with L = t_end - t_start, and masks are recomputed at the
    /// steps t with t mod period = 0 and t_start &lt;= t &lt;= t_end. Between and after those steps the
    /// sparsity of the last update holds (so s_f is reached only if t_end is such a step).
    | JaxPruner

/// Gradual pruning with its steps resolved. Build it with Schedule.gradual, which validates it.
type GradualPruning =
    { /// Sparsity s_i at the start of pruning, in [0, Final].
      Initial: float
      /// Sparsity s_f reached at the end, in [0, 1).
      Final: float
      /// How sparsity rises between the two.
      Ramp: Ramp
      /// The step pruning starts at (t_start).
      Start: int64
      /// The step pruning ends at (t_end), after Start.
      End: int64
      /// Steps between mask updates.
      UpdatePeriod: int64
      /// Whose counting of steps and updates to follow.
      Convention: Convention }

/// Target sparsity as a function of the training step. Steps count gradient updates (JaxPruner
/// reads the optimizer's update count), starting at 0.
type Schedule =
    /// The same sparsity from step 0 on: static sparse training; Constant 0 is a dense network.
    | Constant of sparsity: float
    /// Dense until one step, then pruned once to the sparsity.
    | OneShot of sparsity: float * atStep: int64
    /// Pruned gradually between two steps, masks recomputed periodically (Zhu and Gupta 2017).
    | Gradual of GradualPruning

/// Gradual pruning as a user writes it: steps may be fractions of the training length.
type GradualSpec =
    { /// Sparsity at the start of pruning (0 under the JaxPruner convention).
      InitialSparsity: float
      /// Sparsity at the end of pruning.
      FinalSparsity: float
      /// How sparsity rises between the two.
      Shape: Ramp
      /// When pruning starts.
      PruneStart: StepPoint
      /// When pruning ends.
      PruneEnd: StepPoint
      /// Steps between mask updates.
      PruneEvery: int64
      /// Whose counting of steps and updates to follow.
      Counting: Convention }

/// Schedules: construction with validation, and the sparsity in effect at any step.
[<RequireQualifiedAccess>]
module Schedule =

    /// A dense network: sparsity 0 at every step.
    let dense = Constant 0.0

    /// The paper's schedule (Obando-Ceron et al. 2024, following Zhu and Gupta 2017): from 0 to the
    /// final sparsity with a cubic ramp between 20% and 80% of training, masks recomputed every 1000
    /// steps.
    let paperSpec (finalSparsity: float) : GradualSpec =
        { InitialSparsity = 0.0
          FinalSparsity = finalSparsity
          Shape = Polynomial 3.0
          PruneStart = StepPoint.Fraction 0.2
          PruneEnd = StepPoint.Fraction 0.8
          PruneEvery = 1000L
          Counting = ZhuGupta }

    /// Static sparsity from step 0 on.
    let constant (sparsity: float) : Result<Schedule, string> =
        inHalfOpen "sparsity" 0.0 1.0 sparsity |> Result.map Constant

    /// Dense until atStep, then pruned once to the sparsity.
    let oneShot (sparsity: float) (atStep: int64) : Result<Schedule, string> =
        result {
            let! s = inHalfOpen "sparsity" 0.0 1.0 sparsity
            let! t = atLeast "at_step" 0L atStep
            return OneShot(s, t)
        }

    /// A step point as an absolute step: a fraction f of totalSteps becomes round(f * totalSteps).
    let resolvePoint (field: string) (totalSteps: int64) (point: StepPoint) : Result<int64, string> =
        match point with
        | StepPoint.Absolute step -> atLeast field 0L step
        | StepPoint.Fraction f ->
            result {
                let! f = inClosed field 0.0 1.0 f
                let! total = atLeast "total_steps" 1L totalSteps
                return int64 (Math.Round(f * float total, MidpointRounding.AwayFromZero))
            }

    let private checkGradual (g: GradualPruning) : Result<GradualPruning, string> =
        result {
            let! _ = inHalfOpen "sparsity" 0.0 1.0 g.Final
            do!
                match g.Convention with
                | JaxPruner when g.Initial <> 0.0 ->
                    Error(sprintf "initial_sparsity must be 0 under the jaxpruner convention, got %s" (show g.Initial))
                | _ -> inClosed "initial_sparsity" 0.0 g.Final g.Initial |> Result.map ignore
            do!
                match g.Ramp with
                | Polynomial power -> positive "power" power |> Result.map ignore
                | Cosine -> Ok()
            let! _ = atLeast "prune_every" 1L g.UpdatePeriod
            let! _ = atLeast "prune_start" 0L g.Start
            return!
                if g.End > g.Start then Ok g
                else Error(sprintf "prune_end must be > prune_start (%d), got %d" g.Start g.End)
        }

    /// Checks a schedule however it was made: sparsities in [0, 1) (initial at most final, and 0
    /// under the JaxPruner convention), power > 0, steps >= 0 with start before end, period >= 1.
    let validate (schedule: Schedule) : Result<Schedule, string> =
        match schedule with
        | Constant s -> constant s
        | OneShot(s, at) -> oneShot s at
        | Gradual g -> checkGradual g |> Result.map Gradual

    /// Validates a gradual schedule and resolves its steps against the training length.
    let gradual (totalSteps: int64) (spec: GradualSpec) : Result<Schedule, string> =
        result {
            let! start = resolvePoint "prune_start" totalSteps spec.PruneStart
            let! finish = resolvePoint "prune_end" totalSteps spec.PruneEnd
            return!
                validate (
                    Gradual
                        { Initial = spec.InitialSparsity
                          Final = spec.FinalSparsity
                          Ramp = spec.Shape
                          Start = start
                          End = finish
                          UpdatePeriod = spec.PruneEvery
                          Convention = spec.Counting }
                )
        }

    let private shape ramp (p: float) =
        match ramp with
        | Polynomial power -> (1.0 - p) ** power
        | Cosine -> (1.0 + cos (Math.PI * p)) / 2.0

    let private progress (g: GradualPruning) (t: int64) =
        // In floating point so that no step, however far out, can overflow.
        let offset =
            match g.Convention with
            | ZhuGupta -> 0.0
            | JaxPruner -> 1.0
        Math.Clamp((float t + offset - float g.Start) / float (g.End - g.Start), 0.0, 1.0)

    /// s_f + (s_i - s_f) * shape(p), computed as s_i + (s_f - s_i) * (1 - shape(p)) held within
    /// [s_i, s_f], with p = 1 giving s_f: in floating point this is exact at both ends and still
    /// monotone, which the textbook form is not (s_f + (s_i - s_f) * 1 can miss s_i by an ulp).
    let private ramped (g: GradualPruning) (t: int64) =
        let p = progress g t
        if p >= 1.0 then g.Final
        else min g.Final (max g.Initial (g.Initial + (g.Final - g.Initial) * (1.0 - shape g.Ramp p)))

    /// The schedule's continuous curve at step t, before masks are held between updates: the
    /// formula itself, for plots and for comparing with other libraries.
    let curve (schedule: Schedule) (t: int64) : float =
        match schedule with
        | Constant s -> s
        | OneShot(s, at) -> if t >= at then s else 0.0
        | Gradual g -> ramped g t

    /// The last step at or before t at which masks are recomputed; None before the first one.
    let lastUpdate (schedule: Schedule) (t: int64) : int64 option =
        match schedule with
        | Constant s -> if s > 0.0 && t >= 0L then Some 0L else None
        | OneShot(_, at) -> if t >= at then Some at else None
        | Gradual g ->
            match g.Convention with
            | ZhuGupta ->
                if t >= g.End then Some g.End
                elif t >= g.Start then Some(g.Start + (t - g.Start) / g.UpdatePeriod * g.UpdatePeriod)
                elif g.Initial > 0.0 && t >= 0L then Some 0L
                else None
            | JaxPruner ->
                let u = min t g.End
                let q = u - u % g.UpdatePeriod
                if u >= 0L && q >= g.Start then Some q else None

    /// Whether masks are recomputed at step t.
    let isUpdateStep (schedule: Schedule) (t: int64) : bool = lastUpdate schedule t = Some t

    /// Every step at which masks are recomputed, in order.
    let updateSteps (schedule: Schedule) : int64 seq =
        match schedule with
        | Constant s -> if s > 0.0 then Seq.singleton 0L else Seq.empty
        | OneShot(_, at) -> Seq.singleton at
        | Gradual g ->
            match g.Convention with
            | ZhuGupta ->
                seq {
                    if g.Initial > 0.0 && g.Start > 0L then 0L
                    yield! seq { g.Start .. g.UpdatePeriod .. g.End - 1L }
                    g.End
                }
            | JaxPruner ->
                let first = (g.Start + g.UpdatePeriod - 1L) / g.UpdatePeriod * g.UpdatePeriod
                seq { first .. g.UpdatePeriod .. g.End }

    /// The target sparsity in effect at step t, after any mask update at t: the curve at the last
    /// update step, held constant until the next one; 0 (dense) before the first update.
    let sparsityAt (schedule: Schedule) (t: int64) : float =
        match lastUpdate schedule t with
        | Some u -> curve schedule u
        | None -> 0.0

    /// The sparsity the schedule ends at.
    /// (Under the JaxPruner convention that is the sparsity of the last update at or before t_end.)
    let finalSparsity (schedule: Schedule) : float = sparsityAt schedule Int64.MaxValue

    /// Up to `count` of the schedule's update steps, evenly spread, the first and last included:
    /// the steps worth showing a person.
    let milestones (count: int) (schedule: Schedule) : int64 list =
        let steps = updateSteps schedule |> Array.ofSeq
        if steps.Length <= count then List.ofArray steps
        else
            [ for k in 0 .. count - 1 -> steps[int (int64 k * int64 (steps.Length - 1) / int64 (max 1 (count - 1)))] ]
            |> List.distinct
