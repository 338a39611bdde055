/// Properties of reports over runs: independent of the order runs are found in, groups that partition
/// the runs, run scores within their evaluations, and normalisation's fixed points.
module Prunerl.Properties.ReportProperties

open Expecto
open FsCheck
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 60 }

/// A finished run on one of three tasks, dense or pruned, at width 1 or 2, with 1-6 evaluations.
let private run: Gen<Run> =
    gen {
        let! env = Gen.elements [ "cartpole"; "acrobot"; "minatar/breakout" ]
        let! sparsity = Gen.elements [ "0"; "0.9" ]
        let! width = Gen.elements [ "1"; "2" ]
        let! id = Gen.choose (0, 999_999)
        let! returns = Gen.choose (1, 6) |> Gen.bind (fun n -> Gen.arrayOfLength n (Gen.choose (-500, 500)))
        let points = returns |> Array.mapi (fun i r -> { Step = int64 (i + 1) * 100L; Value = float r })
        return
            { Id = sprintf "%s/w%s/s%s/run%06d" env width sparsity id
              Config = Map [ "env", env; "sparsity", sparsity; "width", width; "steps", string (100 * returns.Length) ]
              State = "finished"
              Series = Map [ Report.evaluationMetric, points ] }
    }

let private runs = Gen.nonEmptyListOf run |> Gen.map (List.distinctBy (fun r -> r.Id))

let private keys = Report.defaultGroupBy

let private settings = { Source = ScoreSource.Evaluation; ScoreWindow = 0.5; Confidence = 0.95; Repetitions = 200; Seed = 7UL; Scales = Normalization.builtIn }

/// Everything a report computes from the runs.
let private report (rs: Run list) =
    let scored = Report.score settings rs |> ok
    Report.summarise settings keys scored |> ok,
    Report.improvements settings keys scored |> ok,
    Report.profiles settings keys (Report.thresholds 11 scored) scored |> ok,
    Report.curves settings Aggregate.iqm keys (scored |> List.map (fun s -> s.Run, s.Curve)) |> ok

[<Tests>]
let tests =
    testList "Report properties" [
        testPropertyWithConfig config "a report does not depend on the order of its runs" <|
            Prop.forAll (arb (runs |> Gen.bind (fun rs -> Gen.shuffle rs |> Gen.map (fun shuffled -> rs, List.ofArray shuffled)))) (fun (rs, shuffled) ->
                Expect.equal (report shuffled) (report rs) "same aggregates, improvements, profiles and curves")

        testPropertyWithConfig config "groups partition the runs, each run in the group of its kind and width" <|
            Prop.forAll (arb runs) (fun rs ->
                let scored = Report.score settings rs |> ok
                let summaries = Report.summarise settings keys scored |> ok
                Expect.equal (summaries |> List.sumBy (fun s -> s.Runs)) rs.Length "every run once"
                for s in summaries do
                    let members = rs |> List.filter (fun r -> Report.groupOf keys r = s.Group)
                    Expect.equal s.Runs members.Length (Report.label s.Group)
                    Expect.equal s.Tasks (members |> List.map Report.env |> List.distinct |> List.length) "tasks"
                    let kind = s.Group.Values |> List.head |> snd
                    Expect.isTrue (members |> List.forall (fun r -> (r.Config["sparsity"] = "0.9") = (kind = "pruned"))) "pruned iff sparsity > 0")

        testPropertyWithConfig config "a run's score lies within its evaluations; window 0 is the last one, 1 the mean of all" <|
            Prop.forAll (arb run) (fun r ->
                let evaluations = r.Series[Report.evaluationMetric]
                let values = evaluations |> Array.map (fun p -> p.Value)
                for window in [ 0.0; 0.1; 0.5; 1.0 ] do
                    let score = Report.runScore window (Report.totalSteps r) evaluations
                    Expect.isTrue (Array.min values <= score && score <= Array.max values) (sprintf "window %g" window)
                Expect.equal (Report.runScore 0.0 (Report.totalSteps r) evaluations) (Array.last values) "final"
                Expect.floatClose Accuracy.veryHigh (Report.runScore 1.0 (Report.totalSteps r) evaluations) (Array.average values) "all")

        testPropertyWithConfig config "normalisation maps the random score to 0 and the reference to 1, and reads back what it describes" <|
            Prop.forAll (arb (Gen.zip3 (Gen.choose (-1000, 1000)) (Gen.choose (1, 1000)) (Gen.elements [ true; false ]))) (fun (lo, span, hasReference) ->
                let scale = { Env = "game"; RandomScore = float lo / 8.0; ReferenceScore = (if hasReference then Some(float (lo + span) / 8.0) else None); Source = "s.csv" }
                Expect.equal (Normalization.normalise scale scale.RandomScore) 0.0 "random -> 0"
                match scale.ReferenceScore with
                | Some reference -> Expect.floatClose Accuracy.veryHigh (Normalization.normalise scale reference) 1.0 "reference -> 1"
                | None -> Expect.equal (Normalization.normalise scale (scale.RandomScore + 3.0)) 3.0 "random-only: above random"
                let line = sprintf "game,%s,%s" (Validate.show scale.RandomScore) (scale.ReferenceScore |> Option.map Validate.show |> Option.defaultValue "")
                Expect.equal (Normalization.parse "s.csv" ("env,random,reference\n" + line) |> ok) [ scale ] "parsed back")
    ]
