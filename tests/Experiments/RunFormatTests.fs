/// The run folder's format: its names, the states' spellings and status.json read strictly or leniently.
module Prunerl.Tests.RunFormatTests

open System
open Expecto
open Prunerl.Experiments

/// status.json as the training loop writes it (RunFolder.writeStatus).
let private written =
    """{"state": "running", "step": 1200, "total_steps": 30000, "error": null, "updated": "2026-12-07T16:21:01.103Z", "device": "cpu"}"""

/// status.json as the Slurm batch script writes it when a command cannot start (Slurm.batchScript).
let private scriptRecord = """{"state": "failed", "error": "could not start prunerl (exit 127)"}"""

[<Tests>]
let tests =
    testList "run folder format" [
        test "the folder's names and config.json's format tag" {
            Expect.equal
                [ RunFormat.ConfigFile; RunFormat.StatusFile; RunFormat.SlurmFile; RunFormat.CheckpointFolder; RunFormat.MetricsCsv; RunFormat.MetricsJsonl; RunFormat.DatasetFile; RunFormat.TrainLog ]
                [ "config.json"; "status.json"; "slurm.json"; "checkpoint"; "metrics.csv"; "metrics.jsonl"; "dataset.prlds"; "train.log" ]
                "file names"
            Expect.equal RunFormat.ConfigFormat "prunerl-run/1" "format tag"
            Expect.equal RunFields.format RunFormat.ConfigFormat "config.json's format field writes the tag"
        }

        test "every state has one spelling, read back to itself; lost is never written" {
            Expect.equal (RunFormat.states |> List.map snd) [ "pending"; "running"; "finished"; "failed"; "interrupted"; "lost" ] "spellings"
            for state, name in RunFormat.states do
                Expect.equal (RunFormat.stateName state) name "spelt"
                Expect.equal (RunFormat.tryState name) (Some state) "read back"
            Expect.equal (RunFormat.tryState "done") None "an unknown spelling"
            Expect.isFalse (List.contains RunState.Lost RunFormat.written) "lost is a scheduler's view"
        }

        test "the metric names the loop writes and the report reads" {
            Expect.equal
                [ RunFormat.EvalReturn; RunFormat.EvalSparsity; RunFormat.TrainEpisodeReturn; RunFormat.TrainEpisodeLength ]
                [ "eval/return"; "eval/sparsity"; "train/episode_return"; "train/episode_length" ]
                "evaluation and training"
            Expect.equal (RunFormat.AnalysisSrank, RunFormat.AnalysisDormantLayerPrefix) ("analysis/srank", "analysis/dormant/") "analyses"
            Expect.equal
                [ RunFormat.EvalEpisodeReturn; RunFormat.TrainEpsilon; RunFormat.StepsPerSecond ]
                [ "eval/episode_return"; "train/epsilon"; "perf/steps_per_second" ]
                "the details metrics.csv leaves out"
            Expect.equal Report.evaluationMetric RunFormat.EvalReturn "the report scores the evaluations"
        }

        test "status.json as the loop writes it reads alike strictly and leniently" {
            let expected =
                { State = RunState.Running; Step = 1200L; TotalSteps = 30_000L; Error = None
                  Updated = DateTimeOffset(2026, 12, 7, 16, 21, 1, 103, TimeSpan.Zero); Device = Some "cpu"; StepsPerSecond = None; RecentReturn = None }
            Expect.equal (RunFormat.parseStatus StatusReading.Strict written) (Ok expected) "strict"
            Expect.equal (RunFormat.parseStatus StatusReading.Lenient written) (Ok expected) "lenient"
        }

        test "a running run's speed and recent return are read when status.json has them, as numbers only" {
            let measured = written.Replace("\"device\": \"cpu\"}", "\"device\": \"cpu\", \"steps_per_second\": 812.5, \"recent_return\": -3.25}")
            match RunFormat.parseStatus StatusReading.Strict measured with
            | Ok s -> Expect.equal (s.StepsPerSecond, s.RecentReturn) (Some 812.5, Some -3.25) "both measured"
            | Error e -> failtest e
            let notNumbers = written.Replace("\"device\": \"cpu\"}", "\"device\": \"cpu\", \"steps_per_second\": null, \"recent_return\": \"x\"}")
            match RunFormat.parseStatus StatusReading.Strict notNumbers with
            | Ok s -> Expect.equal (s.StepsPerSecond, s.RecentReturn) (None, None) "a null or a string is no measurement"
            | Error e -> failtest e
        }

        test "the batch script's record of a failed start reads leniently only" {
            Expect.equal
                (RunFormat.parseStatus StatusReading.Lenient scriptRecord)
                (Ok { State = RunState.Failed; Step = 0L; TotalSteps = 0L; Error = Some "could not start prunerl (exit 127)"; Updated = DateTimeOffset.MinValue; Device = None; StepsPerSecond = None; RecentReturn = None })
                "lenient: the rest defaulted"
            Expect.equal (RunFormat.parseStatus StatusReading.Strict scriptRecord) (Error "has no step") "strict: the first missing field"
        }

        test "a bad status.json is an error naming what is wrong, in either mode" {
            for reading in [ StatusReading.Strict; StatusReading.Lenient ] do
                Expect.equal
                    (RunFormat.parseStatus reading """{"state": "done"}""")
                    (Error "state must be one of pending, running, finished, failed, interrupted, got \"done\"")
                    "unknown state"
                Expect.equal (RunFormat.parseStatus reading """{"state": "lost"}""") (Error "state must be one of pending, running, finished, failed, interrupted, got \"lost\"") "lost is not written"
                Expect.equal (RunFormat.parseStatus reading """{"step": 1}""") (Error "has no state (one of pending, running, finished, failed, interrupted)") "no state"
                Expect.equal (RunFormat.parseStatus reading "[1]") (Error "must hold a JSON object") "not an object"
                match RunFormat.parseStatus reading "{" with
                | Error e -> Expect.stringStarts e "not valid JSON" "not JSON"
                | Ok _ -> failtest "read a truncated object"
        }
    ]
