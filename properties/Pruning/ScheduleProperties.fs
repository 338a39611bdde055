/// Properties of pruning schedules: bounds, monotonicity, end points, and the step function
/// between mask updates, for both conventions and every ramp.
module Prunerl.Properties.ScheduleProperties

open Expecto
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

/// Every step of a run, from 0 to well past the last mask update.
let private stepsOf (schedule: Schedule) =
    match schedule with
    | Constant _ -> [ 0L .. 20L ]
    | OneShot(_, at) -> [ 0L .. at + 5L ]
    | Gradual g -> [ 0L .. g.End + 2L * g.UpdatePeriod + 3L ]

/// The sparsities a gradual schedule moves between.
let private bounds (g: GradualPruning) = min g.Initial g.Final, max g.Initial g.Final

let private forAllGradual body =
    Prop.forAll (Arbs.gradual) (fun g -> body g (Gradual g))

[<Tests>]
let tests =
    testList "Schedule properties" [
        testPropertyWithConfig config "generated schedules are valid" <|
            Prop.forAll (Arbs.schedule) (fun s -> Expect.equal (Schedule.validate s) (Ok s) "valid")

        testPropertyWithConfig config "stays within [min(s_i, s_f), max(s_i, s_f)] from its first update on" <|
            forAllGradual (fun g s ->
                let lo, hi = bounds g
                for t in stepsOf s do
                    let v = Schedule.sparsityAt s t
                    match Schedule.lastUpdate s t with
                    | Some _ -> Expect.isTrue (lo <= v && v <= hi) (sprintf "s(%d) = %g outside [%g, %g]" t v lo hi)
                    | None -> Expect.equal v 0.0 (sprintf "dense before the first update, at %d" t))

        testPropertyWithConfig config "is monotone: s(t) <= s(t + 1)" <|
            Prop.forAll (Arbs.schedule) (fun s ->
                for t in stepsOf s do
                    let a, b = Schedule.sparsityAt s t, Schedule.sparsityAt s (t + 1L)
                    Expect.isTrue (a <= b) (sprintf "s(%d) = %g > s(%d) = %g" t a (t + 1L) b))

        testPropertyWithConfig config "Zhu-Gupta: equals s_i at t_start and s_f at t_end and after" <|
            forAllGradual (fun g s ->
                let g = { g with Convention = ZhuGupta }
                let s = Gradual g
                Expect.equal (Schedule.sparsityAt s g.Start) g.Initial "s(t_start) = s_i"
                Expect.equal (Schedule.sparsityAt s g.End) g.Final "s(t_end) = s_f"
                Expect.equal (Schedule.sparsityAt s (g.End + 12345L)) g.Final "s after t_end = s_f"
                Expect.equal (Schedule.finalSparsity s) g.Final "final sparsity")

        testPropertyWithConfig config "changes only at mask updates (a step function between them)" <|
            Prop.forAll (Arbs.schedule) (fun s ->
                for t in stepsOf s |> List.tail do
                    if Schedule.sparsityAt s t <> Schedule.sparsityAt s (t - 1L) then
                        Expect.isTrue (Schedule.isUpdateStep s t) (sprintf "changed at %d, not an update step" t))

        testPropertyWithConfig config "holds the curve's value at the last update" <|
            Prop.forAll (Arbs.schedule) (fun s ->
                for t in stepsOf s do
                    match Schedule.lastUpdate s t with
                    | Some u ->
                        Expect.isTrue (u <= t) "last update is not in the future"
                        Expect.equal (Schedule.sparsityAt s t) (Schedule.curve s u) (sprintf "held value at %d" t)
                    | None -> ())

        testPropertyWithConfig config "updateSteps lists exactly the steps isUpdateStep accepts" <|
            Prop.forAll (Arbs.schedule) (fun s ->
                let listed = Schedule.updateSteps s |> Seq.takeWhile (fun t -> t <= List.last (stepsOf s)) |> List.ofSeq
                let accepted = stepsOf s |> List.filter (Schedule.isUpdateStep s)
                Expect.equal listed accepted "update steps")

        testPropertyWithConfig config "Zhu-Gupta updates at t_start + k * period and at t_end" <|
            forAllGradual (fun g _ ->
                let g = { g with Convention = ZhuGupta; Initial = 0.0 }
                let expected = [ g.Start .. g.UpdatePeriod .. g.End ] @ [ g.End ] |> List.distinct
                Expect.equal (Schedule.updateSteps (Gradual g) |> List.ofSeq) expected "update steps")

        testPropertyWithConfig config "JaxPruner updates at multiples of the period within [t_start, t_end]" <|
            forAllGradual (fun g _ ->
                let g = { g with Convention = JaxPruner; Initial = 0.0 }
                let expected = [ g.Start .. g.End ] |> List.filter (fun t -> t % g.UpdatePeriod = 0L)
                Expect.equal (Schedule.updateSteps (Gradual g) |> List.ofSeq) expected "update steps")

        testPropertyWithConfig config "JaxPruner: s_f * (1 - (1 - p)^3), p = clip(t + 1 - t_start, 0, L) / L, at its updates" <|
            forAllGradual (fun g _ ->
                let g = { g with Convention = JaxPruner; Initial = 0.0; Ramp = Polynomial 3.0 }
                let s = Gradual g
                let length = float (g.End - g.Start)
                for t in Schedule.updateSteps s do
                    let p = (min (max (float (t + 1L - g.Start)) 0.0) length) / length
                    Expect.floatClose Accuracy.veryHigh (Schedule.sparsityAt s t) (g.Final * (1.0 - (1.0 - p) ** 3.0)) (sprintf "at %d" t)
                if g.End % g.UpdatePeriod = 0L then
                    Expect.equal (Schedule.finalSparsity s) g.Final "reaches s_f when t_end is an update step")
    ]
