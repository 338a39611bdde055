/// A sweep's progress lines (SweepProgress), from status.json's facts: each running run's steps, speed,
/// recent return and time left, and the sweep's runs done and time left; values derived here by hand.
module Prunerl.Tests.SweepProgressTests

open System
open Expecto
open Prunerl.Cli.SweepProgress

let private run =
    { Name = "cartpole_w1_s0_none_seed1"; Step = 12_000L; TotalSteps = 30_000L; StepsPerSecond = Some 900.0; RecentReturn = Some 3.25 }

[<Tests>]
let tests =
    testList "sweep progress" [
        test "a running run's line: its steps, share, speed, recent return and the time its 18000 steps take at 900/s" {
            Expect.equal (runLine run) "cartpole_w1_s0_none_seed1  step 12000 of 30000 (40%), 900 steps/s, recent return 3.2, 20s left" "line"
            Expect.equal (timeLeft run) (Some(TimeSpan.FromSeconds 20.0)) "18000 / 900"
        }

        test "before its worker has measured them, a run's line leaves out the speed, return and time left" {
            let starting = { run with Step = 0L; StepsPerSecond = None; RecentReturn = None }
            Expect.equal (runLine starting) "cartpole_w1_s0_none_seed1  step 0 of 30000 (0%)" "line"
            Expect.equal (timeLeft starting) None "no pace"
        }

        test "the sweep's line: runs done, and the remaining steps of running and waiting runs at their combined pace" {
            let other = { run with Name = "b"; Step = 20_000L; StepsPerSecond = Some 600.0 }
            // (18000 + 10000 + 32000 waiting) steps at 900 + 600 = 1500 steps/s: 40 s.
            Expect.equal (overallLine 1 4 [ run; other ] 32_000L) "1 of 4 runs done, 2 running; about 40s left at the current pace" "line"
            Expect.equal (overallLine 1 4 [ run; { other with StepsPerSecond = None } ] 32_000L) "1 of 4 runs done, 2 running" "no estimate until every running run has a pace"
            Expect.equal (overallLine 4 4 [] 0L) "4 of 4 runs done, 0 running" "all done"
        }
    ]
