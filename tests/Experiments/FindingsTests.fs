/// The report's findings in words and its warnings (Findings), on groups and runs written by hand.
module Prunerl.Tests.FindingsTests

open Expecto
open Prunerl.Experiments
open Prunerl.Experiments.Metrics

let private interval estimate lower upper : Interval = { Estimate = estimate; Lower = lower; Upper = upper }

let private group kind width : Group = { Values = [ "kind", kind; "width", width ] }

let private summary g iqm : GroupSummary =
    { Group = g; Runs = 3; Tasks = 1; Iqm = iqm; Median = iqm; Mean = iqm; OptimalityGap = iqm }

let private run id (fields: (string * string) list) : Run =
    { Id = id; Config = Map.ofList fields; State = "finished"; Series = Map.empty }

let private scored (r: Run) : ScoredRun =
    { Run = r; Env = r.Config["env"]; Raw = 1.0; Normalised = 1.0; Curve = [||]; RawCurve = [||] }

let private config env sparsity seed steps =
    [ "env", env; "sparsity", sparsity; "width", "1"; "seed", seed; "steps", steps; "device", "cpu"; "baseline", "none" ]

[<Tests>]
let tests =
    testList "report findings" [
        test "intervals overlap when they share a point" {
            Expect.isTrue (Findings.overlap (interval 1.0 0.5 1.5) (interval 2.0 1.5 2.5)) "touching ends"
            Expect.isFalse (Findings.overlap (interval 1.0 0.5 1.4) (interval 2.0 1.5 2.5)) "apart"
            Expect.isTrue (Findings.overlap (interval 2.0 1.5 2.5) (interval 1.0 0.0 3.0)) "one inside the other"
        }

        test "a pair in words: who is ahead, by how much, whether the intervals overlap, and P(X > Y)" {
            let pruned = summary (group "pruned" "3") (interval 0.61 0.55 0.67)
            let dense = summary (group "dense" "3") (interval 0.49 0.40 0.58)
            let p = interval 0.67 0.4 0.9
            Expect.equal (Findings.comparison pruned dense p)
                "**pruned, width=3** is ahead of **dense, width=3** by 0.12 in IQM (0.61 against 0.49); the 95% intervals overlap, so the data do not separate them; P(X > Y) = 0.67 [0.4, 0.9]."
                "ahead, overlapping"
            let low = summary (group "pruned" "1") (interval 0.82 0.7 0.9)
            let high = summary (group "dense" "1") (interval 1.31 1.2 1.4)
            Expect.equal (Findings.comparison low high (interval 0.0 0.0 0.0))
                "**pruned, width=1** trails **dense, width=1** by 0.49 in IQM (0.82 against 1.31); the 95% intervals do not overlap; P(X > Y) = 0 [0, 0]."
                "behind, apart"
            let point x = interval x x x
            Expect.stringContains (Findings.comparison (summary (group "pruned" "1") (point 0.5)) (summary (group "dense" "1") (point 1.0)) (point 0.0))
                "the intervals are single points (one run per task): the data cannot separate them yet" "one run a side: points, not evidence"
        }

        test "the sentences follow the improvements; without any, the leader and the next group" {
            let d = summary (group "dense" "1") (interval 1.0 0.9 1.1)
            let p = summary (group "pruned" "1") (interval 0.5 0.4 0.6)
            let improvement = { Candidate = p.Group; Baseline = d.Group; Tasks = 1; Probability = interval 0.0 0.0 0.0 }
            Expect.equal (Findings.sentences [ d; p ] [ improvement ]) [ Findings.comparison p d improvement.Probability ] "one pair"
            Expect.equal (Findings.sentences [ p; d ] [])
                [ "**dense, width=1** has the highest IQM (1), 0.5 above **pruned, width=1** (0.5); their 95% intervals do not overlap." ]
                "the leader"
            Expect.equal (Findings.sentences [ d ] []) [] "one group: nothing to compare"
        }

        test "warnings: fewer than 3 runs per task, and identical configs with identical seeds" {
            let a = run "a" (config "cartpole" "0" "1" "1000")
            let b = run "b" (config "cartpole" "0" "2" "1000")
            let twin = run "twin" (config "cartpole" "0" "1" "1000" @ [ "device", "cuda" ])
            let keys = [ Report.kindKey; "width" ]
            Expect.equal (Findings.thinGroups keys (List.map scored [ a; b ])) [ "dense, width=1", "cartpole", 2 ] "two runs"
            Expect.equal (Findings.duplicates [ a; b; twin ]) [ [ "a"; "twin" ] ] "the device does not make a run another"
            let warnings = Findings.warnings keys (List.map scored [ a; b; twin ])
            Expect.equal warnings.Length 1 "three runs: only the duplicate is warned about"
            Expect.stringContains warnings[0] "Runs a, twin have identical configs and seeds: pooling them counts one run 2 times." "the duplicate"
            let thin = Findings.warnings keys (List.map scored [ a; run "c" (config "acrobot" "0" "1" "1000") ])
            Expect.equal
                thin
                [ "dense, width=1 has 1 run on acrobot, 1 on cartpole: fewer than 3 runs per task make its interval little more than a point (rliable: report intervals, and use at least 3 runs per task)." ]
                "one line per group, naming each thin task"
            Expect.equal Findings.minimumRunsPerTask 3 "rliable's few-runs regime starts at 3"
        }

        test "settings mixed in one group are found and refused in one line; seeds, tasks and group keys may differ" {
            let keys = [ Report.kindKey; "width" ]
            let short = run "short" (config "cartpole" "0" "1" "1000")
            let long = run "long" (config "cartpole" "0" "2" "2000")
            let other = run "other" (config "acrobot" "0" "3" "5000")
            let pruned90 = run "p90" (config "cartpole" "0.9" "1" "1000")
            let pruned95 = run "p95" (config "cartpole" "0.95" "2" "1000")
            Expect.equal (Findings.mixedSettings keys [ short; other ]) [] "another task may take another length"
            Expect.equal (Findings.mixedSettings keys [ short; long ]) [ "dense, width=1", "cartpole", "steps", [ "1000"; "2000" ] ] "two lengths"
            Expect.equal (Findings.mixedSettings keys [ pruned90; pruned95 ]) [ "pruned, width=1", "cartpole", "sparsity", [ "0.9"; "0.95" ] ] "two sparsities in one kind"
            Expect.equal (Findings.mixedSettings [ Report.kindKey; "width"; "sparsity" ] [ pruned90; pruned95 ]) [] "unless grouped by it"
            Expect.equal
                (Findings.mixedRefusal keys [ short; long ])
                (Some "group 'dense, width=1' on cartpole mixes runs with different steps (1000, 2000): group by it (--group-by ...,steps) or pass --allow-mixed to pool them anyway")
                "the refusal"
            Expect.equal (Findings.mixedRefusal keys [ short; other ]) None "nothing to refuse"
        }
    ]
