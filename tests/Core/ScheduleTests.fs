/// The paper's default schedule pinned at named steps, with values worked out by hand.
module Prunerl.Tests.ScheduleTests

open Expecto
open Prunerl.Core
open Prunerl.Experiments

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

/// Dopamine's DQN run in the paper: 40 iterations x 250k agent steps, one update per 4 agent steps.
let private totalUpdates = 2_500_000L

let private close expected actual message = Expect.floatClose Accuracy.veryHigh actual expected message

[<Tests>]
let tests =
    testList "Schedule" [
        test "the paper's default schedule at 95%: cubic from 20% to 80% of 2.5M updates, every 1000" {
            let s = Schedule.gradual totalUpdates (Schedule.paperSpec 0.95) |> ok
            let at = Schedule.sparsityAt s
            // Pruning starts at update 500,000 and ends at update 2,000,000 (L = 1.5M).
            Expect.equal (at 0L) 0.0 "dense at the start"
            Expect.equal (at 499_999L) 0.0 "dense just before t_start"
            Expect.equal (at 500_000L) 0.0 "s_i = 0 at t_start"
            Expect.equal (at 500_999L) 0.0 "held until the next update"
            // p = 1000 / 1.5M = 1/1500: s = 0.95 (1 - (1499/1500)^3).
            close (0.95 * (1.0 - (1499.0 / 1500.0) ** 3.0)) (at 501_000L) "first step up"
            // p = 1/3: s = 0.95 (1 - (2/3)^3) = 0.95 * 19/27.
            close (0.95 * 19.0 / 27.0) (at 1_000_000L) "a third of the way"
            // p = 1/2: s = 0.95 (1 - 1/8) = 0.83125.
            close 0.83125 (at 1_250_000L) "half way"
            close 0.83125 (at 1_250_999L) "held between updates"
            // p = 5/6: s = 0.95 (1 - 1/216).
            close (0.95 * 215.0 / 216.0) (at 1_750_000L) "five sixths"
            Expect.equal (at 2_000_000L) 0.95 "s_f at t_end"
            Expect.equal (at totalUpdates) 0.95 "s_f to the end"
            Expect.equal (Schedule.updateSteps s |> Seq.length) 1501 "1501 mask updates: 500k, 501k, ..., 2M"
        }

        test "JaxPruner's convention: DQN example, 98% from update 500k to 2M, every 1000" {
            let spec =
                { Schedule.paperSpec 0.98 with
                    PruneStart = StepPoint.Absolute 500_000L
                    PruneEnd = StepPoint.Absolute 2_000_000L
                    Counting = JaxPruner }
            let s = Schedule.gradual totalUpdates spec |> ok
            let at = Schedule.sparsityAt s
            Expect.equal (at 499_999L) 0.0 "dense before the first update"
            // The +1 offset: p = 1/1.5M already at t_start.
            close (0.98 * (1.0 - (1.0 - 1.0 / 1.5e6) ** 3.0)) (at 500_000L) "first update is not 0"
            // p = (750,000 + 1) / 1.5M.
            close (0.98 * (1.0 - (1.0 - 750_001.0 / 1.5e6) ** 3.0)) (at 1_250_000L) "half way, +1"
            Expect.equal (at 2_000_000L) 0.98 "s_f at t_end"
        }

        test "linear, cosine, one-shot and constant schedules at named steps" {
            let ramp shape =
                Schedule.gradual 1000L
                    { Schedule.paperSpec 0.8 with
                        InitialSparsity = 0.2
                        Shape = shape
                        PruneStart = StepPoint.Absolute 100L
                        PruneEnd = StepPoint.Absolute 500L
                        PruneEvery = 100L }
                |> ok
            let linear = ramp (Polynomial 1.0)
            Expect.equal (Schedule.sparsityAt linear 0L) 0.2 "s_i from step 0"
            Expect.isTrue (Schedule.isUpdateStep linear 0L) "an initial sparsity is applied at step 0"
            close 0.5 (Schedule.sparsityAt linear 300L) "linear: half way between 0.2 and 0.8"
            close 0.5 (Schedule.sparsityAt linear 399L) "held"
            let cosine = ramp Cosine
            close 0.5 (Schedule.sparsityAt cosine 300L) "cosine: half way at the midpoint"
            close (0.8 + (0.2 - 0.8) * (1.0 + cos (System.Math.PI / 4.0)) / 2.0) (Schedule.sparsityAt cosine 200L) "cosine at a quarter"
            let oneShot = Schedule.oneShot 0.9 700L |> ok
            Expect.equal (Schedule.sparsityAt oneShot 699L) 0.0 "dense before"
            Expect.equal (Schedule.sparsityAt oneShot 700L) 0.9 "pruned at the step"
            Expect.equal (Schedule.updateSteps oneShot |> List.ofSeq) [ 700L ] "one update"
            let static' = Schedule.constant 0.9 |> ok
            Expect.equal (Schedule.sparsityAt static' 0L) 0.9 "static sparse from step 0"
            Expect.equal (Schedule.updateSteps Schedule.dense |> List.ofSeq) [] "dense never updates"
        }

        test "fractions resolve against the training length, rounding half away from zero" {
            let s = Schedule.gradual 1001L { Schedule.paperSpec 0.9 with PruneStart = StepPoint.Fraction 0.5 } |> ok
            match s with
            | Gradual g ->
                Expect.equal g.Start 501L "0.5 * 1001 = 500.5 -> 501"
                Expect.equal g.End 801L "0.8 * 1001 = 800.8 -> 801"
            | other -> failtestf "expected a gradual schedule, got %A" other
        }

        test "errors name the field and the allowed range" {
            let error r =
                match r with
                | Error e -> e
                | Ok x -> failtestf "expected an error, got %A" x
            Expect.equal (error (Schedule.constant 1.2)) "sparsity must be in [0, 1), got 1.2" "sparsity"
            Expect.equal
                (error (Schedule.gradual 100L { Schedule.paperSpec 0.9 with PruneEvery = 0L }))
                "prune_every must be >= 1, got 0"
                "period"
            Expect.equal
                (error (Schedule.gradual 100L { Schedule.paperSpec 0.9 with PruneEnd = StepPoint.Fraction 0.1 }))
                "prune_end must be > prune_start (20), got 10"
                "end before start"
        }
    ]
