/// `prunerl sweep --launcher slurm`, `--status` and `--resubmit-failed` without a cluster: sbatch and
/// squeue are stand-in scripts on PATH that record what they were asked and answer as told, so that
/// the batch script, the run folders, the per-run records and the states read back are checked exactly.
/// tests/slurm/sweep-test.sh runs the same commands against a real Slurm.
module Prunerl.Tests.SlurmSweepTests

open System
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests
open Prunerl.Tests.RunCommandTests

/// A folder of stand-ins: sbatch appends its arguments to FAKE_SLURM_LOG and prints job 4242 (or, with
/// FAKE_SBATCH_EXIT, refuses the submission as sbatch does); squeue prints the tasks in FAKE_QUEUE (or,
/// with FAKE_QUEUE_FAIL, fails as it does without a controller).
let private withFakeSlurm (body: string -> (string * string) list -> unit) =
    withFolder "fake-slurm" (fun bin ->
        Directory.CreateDirectory bin |> ignore
        let script (name: string) (text: string) =
            let path = Path.Combine(bin, name)
            File.WriteAllText(path, "#!/bin/sh\n" + text)
            File.SetUnixFileMode(path, UnixFileMode.UserRead ||| UnixFileMode.UserWrite ||| UnixFileMode.UserExecute)
        script "sbatch" """echo "$*" >>"$FAKE_SLURM_LOG"
if [ "$1" = --parsable ] && [ -n "${FAKE_SBATCH_EXIT:-}" ]; then
    echo "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified" >&2
    exit "$FAKE_SBATCH_EXIT"
fi
echo "4242;testcluster"
"""
        script "squeue" """if [ -n "${FAKE_QUEUE_FAIL:-}" ]; then echo "squeue: error: Unable to contact slurm controller" >&2; exit 1; fi
for task in ${FAKE_QUEUE:-}; do echo "$task"; done
"""
        let log = Path.Combine(bin, "calls.log")
        body log [ "PATH", bin + ":" + Environment.GetEnvironmentVariable "PATH"; "FAKE_SLURM_LOG", log ])

let private grid = [ "--seed"; "1,2"; "--steps"; "1500" ]
let private runNames = [ "cartpole_w2_s0.95_none_seed1"; "cartpole_w2_s0.95_none_seed2" ]

let private json (path: string) = JsonDocument.Parse(File.ReadAllText path).RootElement

let private state (run: string) = (json (Path.Combine(run, "status.json"))).GetProperty("state").GetString()

/// The submissions' folders of a results folder, oldest first.
let private submissions (results: string) = Directory.GetDirectories(Path.Combine(results, ".slurm")) |> Array.sort

/// A fixture run: config.json, a status.json in the state given (None: none), and a slurm.json naming
/// task `task` of job 77 when given.
let private fixtureRun (results: string) (name: string) (status: (string * int * string option) option) (task: int option) =
    let run = Path.Combine(results, name)
    writeConfig run [ "steps", Number 1500.0 ]
    match status with
    | Some(state, step, error) ->
        let error = match error with Some e -> sprintf "\"%s\"" e | None -> "null"
        File.WriteAllText(Path.Combine(run, "status.json"), sprintf """{"state": "%s", "step": %d, "total_steps": 1500, "error": %s, "updated": "2026-01-01T00:00:00.000Z"}""" state step error)
    | None -> ()
    match task with
    | Some t -> File.WriteAllText(Path.Combine(run, "slurm.json"), sprintf """{"job_id": 77, "task": %d, "submission": "/old", "log": "/old/logs/77_%d.out"}""" t t)
    | None -> ()
    run

/// Six runs, one per state the status can show: finished; running as task 77_1 (queued); running as
/// 77_2 (no longer queued: lost); failed; interrupted; pending as 77_4 (queued). FAKE_QUEUE is "77_1 77_4".
let private fixtures (results: string) =
    fixtureRun results "a_finished" (Some("finished", 1500, None)) (Some 0) |> ignore
    fixtureRun results "b_running" (Some("running", 300, None)) (Some 1) |> ignore
    fixtureRun results "c_lost" (Some("running", 500, None)) (Some 2) |> ignore
    fixtureRun results "d_failed" (Some("failed", 700, Some "RuntimeError: boom")) (Some 3) |> ignore
    fixtureRun results "e_interrupted" (Some("interrupted", 1000, None)) (Some 5) |> ignore
    fixtureRun results "f_pending" (Some("pending", 0, None)) (Some 4) |> ignore
    Directory.CreateDirectory(Path.Combine(results, ".slurm", "20260101-000000-000")) |> ignore
    File.WriteAllText(Path.Combine(results, ".slurm", "20260101-000000-000", "resources.json"), """{"cpus": 3, "memory": "2G", "time_limit": null, "throttle": 2}""")

/// The state column of each run's row in `sweep --status`'s table.
let private statesIn (output: string) (names: string list) =
    [ for name in names ->
          let row = output.Split('\n') |> Array.find (fun line -> line.Contains(name + " "))
          name, row.Split('│', StringSplitOptions.TrimEntries)[2] ]

[<Tests>]
let tests =
    testList "sweep on slurm" [
        test "a dry run prints the batch script and the task -> run mapping from flags and the sweep file, and writes nothing" {
            withFolder "slurm-dry" (fun results ->
                let dry = prunerl ([ "sweep"; "--launcher"; "slurm"; "--out"; results; "--cpus"; "2"; "--mem"; "1536M"; "--time"; "1:30:00"; "--partition"; "debug"; "--account"; "lab"; "--gres"; "gpu:1"; "--throttle"; "1"; "--dry-run" ] @ grid)
                Expect.equal dry.ExitCode 0 (describe dry)
                for line in
                    [ "#SBATCH --array=0-1%1"; "#SBATCH --cpus-per-task=2"; "#SBATCH --mem=1536M"; "#SBATCH --time=0-01:30:00"
                      "#SBATCH --partition=debug"; "#SBATCH --account=lab"; "#SBATCH --gres=gpu:1"; "#SBATCH --requeue"
                      sprintf "#SBATCH --chdir=\"%s\"" results ] do
                    Expect.stringContains dry.Output (line + "\n") line
                let dll = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")
                Expect.stringContains dry.Output (sprintf "'%s' 'train' '--config' \"$run\"'/config.json' '--out' \"$run\" '--resume-if-exists'" dll) "each task trains its run with this very build"
                for i, name in List.indexed runNames do
                    Expect.stringContains dry.Output (sprintf "%4d  %s\n" i (Path.Combine(results, name))) "task i -> run i"
                Expect.isFalse (Directory.Exists results) "a dry run writes nothing"
                // The sweep file's "launcher" and "slurm" members; a flag replaces a field of "slurm".
                let file = results + ".json"
                try
                    File.WriteAllText(file, """{ "seed": [1, 2], "steps": 1500, "launcher": "slurm", "slurm": { "cpus": 2, "memory": "2G", "throttle": 3 } }""")
                    let fromFile = prunerl [ "sweep"; "--config"; file; "--out"; results; "--cpus"; "4"; "--dry-run" ]
                    Expect.equal fromFile.ExitCode 0 (describe fromFile)
                    for line in [ "#SBATCH --array=0-1%3"; "#SBATCH --cpus-per-task=4"; "#SBATCH --mem=2G" ] do
                        Expect.stringContains fromFile.Output (line + "\n") line
                    File.WriteAllText(file, """{ "seed": [1, 2], "launcher": "slurm", "slurm": { "cpu": 2 } }""")
                    prunerl [ "sweep"; "--config"; file; "--out"; results ] |> expectOneLineError "config: slurm: unknown field 'cpu'; the fields are cpus, memory"
                    File.WriteAllText(file, """{ "seed": [1, 2], "launcher": "pbs" }""")
                    prunerl [ "sweep"; "--config"; file; "--out"; results ] |> expectOneLineError "launcher must be local or slurm, got 'pbs'"
                finally
                    File.Delete file
                Expect.isFalse (Directory.Exists results) "nothing written")
        }

        test "bad resource flags are one-line errors (exit 2) and write nothing" {
            withFolder "slurm-bad" (fun results ->
                for args, words in
                    [ [ "--cpus"; "0" ], "cpus must be >= 1, got 0"
                      [ "--cpus"; "two" ], "cpus must be a whole number, got 'two'"
                      [ "--mem"; "4X" ], "memory must be a whole number of MiB or more with an optional unit"
                      [ "--time"; "1:99:00" ], "time_limit must be minutes, MM:SS, HH:MM:SS"
                      [ "--time"; "0" ], "time_limit must be"
                      [ "--partition"; "a b" ], "partition must be a partition name"
                      [ "--account"; "lab;rm" ], "account must be an account name"
                      [ "--gres"; "gpu::1" ], "gres must be a comma-separated list of name[:type][:count]"
                      [ "--throttle"; "0" ], "throttle must be >= 1, got 0"
                      [ "--launcher"; "pbs" ], "launcher must be local or slurm, got 'pbs'"
                      [ "--workers"; "2" ], "workers applies to --launcher local" ] do
                    prunerl ([ "sweep"; "--launcher"; "slurm"; "--out"; results ] @ grid @ args) |> expectOneLineError words
                prunerl ([ "sweep"; "--out"; results; "--mem"; "4G" ] @ grid) |> expectOneLineError "memory: resource flags apply to --launcher slurm only"
                prunerl [ "sweep"; "--status"; results ] |> expectOneLineError "is not a folder"
                prunerl [ "sweep"; "--resubmit-failed"; results ] |> expectOneLineError "is not a folder"
                Expect.isFalse (Directory.Exists results) "nothing written")
        }

        test "a submission prepares each run (config, status pending), writes the script and manifest, and records each run's task" {
            withFakeSlurm (fun calls environment ->
                withFolder "slurm-submit" (fun results ->
                    let submitted = prunerlWith environment ([ "sweep"; "--launcher"; "slurm"; "--out"; results; "--throttle"; "2" ] @ grid)
                    Expect.equal submitted.ExitCode 0 (describe submitted)
                    Expect.stringContains submitted.Output "Submitted job array 4242: 2 tasks (0-1%2)" "the job id from sbatch --parsable"
                    let submission = Array.exactlyOne (submissions results)
                    let script = Path.Combine(submission, "job.sh")
                    Expect.contains (File.ReadAllLines calls) (sprintf "--parsable %s" script) "sbatch got the script"
                    Expect.equal (File.ReadAllText(Path.Combine(submission, "manifest.txt"))) (runNames |> List.map (fun n -> Path.Combine(results, n) + "\n") |> String.concat "") "task i -> run on line i + 1"
                    Expect.isTrue (Directory.Exists(Path.Combine(submission, "logs"))) "the log folder exists before the job starts"
                    for i, name in List.indexed runNames do
                        let run = Path.Combine(results, name)
                        Expect.isTrue (File.Exists(Path.Combine(run, "config.json"))) "config.json written"
                        Expect.equal (state run) "pending" "status pending until the task starts"
                        let record = json (Path.Combine(run, "slurm.json"))
                        Expect.equal (record.GetProperty("job_id").GetInt64(), record.GetProperty("task").GetInt32()) (4242L, i) "its array task"
                        Expect.equal (record.GetProperty("log").GetString()) (Path.Combine(submission, "logs", sprintf "4242_%d.out" i)) "its log"
                    // Sweeping again while the tasks are queued submits nothing twice.
                    let again = prunerlWith (("FAKE_QUEUE", "4242_0 4242_1") :: environment) ([ "sweep"; "--launcher"; "slurm"; "--out"; results ] @ grid)
                    Expect.equal again.ExitCode 0 (describe again)
                    Expect.stringContains again.Output "skip: queued or running as Slurm task 4242_0" "a queued run is left alone"
                    Expect.stringContains again.Output "Nothing to submit." "nothing submitted"
                    Expect.equal (submissions results).Length 1 "no second submission"
                    // sbatch refusing the job: each run's status says so, nothing is left silently pending.
                    let refused = prunerlWith (("FAKE_SBATCH_EXIT", "1") :: environment) ([ "sweep"; "--launcher"; "slurm"; "--out"; results ] @ grid)
                    Expect.equal refused.ExitCode 1 (describe refused)
                    Expect.stringContains refused.Error "sbatch refused the job (exit code 1): sbatch: error: Batch job submission failed: Invalid account" "sbatch's reason"
                    for name in runNames do
                        let status = json (Path.Combine(results, name, "status.json"))
                        Expect.equal (status.GetProperty("state").GetString()) "failed" "marked failed"
                        Expect.stringStarts (status.GetProperty("error").GetString()) "not submitted: sbatch refused the job" "with why"))
        }

        test "status summarises the runs from their folders; a running run whose task left the queue is lost; it works without squeue" {
            withFakeSlurm (fun _ environment ->
                withFolder "slurm-status" (fun results ->
                    fixtures results
                    let names = [ "a_finished"; "b_running"; "c_lost"; "d_failed"; "e_interrupted"; "f_pending" ]
                    let status = prunerlWith (("FAKE_QUEUE", "77_1 77_4") :: environment) [ "sweep"; "--status"; results ]
                    Expect.equal status.ExitCode 0 (describe status)
                    Expect.equal (statesIn status.Output names)
                        [ "a_finished", "finished"; "b_running", "running"; "c_lost", "lost"; "d_failed", "failed"; "e_interrupted", "interrupted"; "f_pending", "pending" ] "each run's state"
                    Expect.stringContains status.Output "6 runs: 1 pending, 1 running, 1 finished, 1 failed, 1 interrupted, 1 lost" "the counts"
                    Expect.stringContains status.Output "task 77_2 is no longer in Slurm's queue; log /old/logs/77_2.out" "a lost run says where its log is"
                    Expect.stringContains status.Output "RuntimeError: boom (log /old/logs/77_3.out)" "a failed run's error and log"
                    Expect.stringContains status.Output "300/1500" "step of total"
                    let offline = prunerlWith (("FAKE_QUEUE_FAIL", "1") :: environment) [ "sweep"; "--status"; results ]
                    Expect.equal offline.ExitCode 0 (describe offline)
                    Expect.equal (statesIn offline.Output [ "c_lost"; "f_pending" ]) [ "c_lost", "running"; "f_pending", "pending" ] "without squeue, the status files' states"
                    Expect.stringContains offline.Output "squeue could not be run" "says why none is lost"))
        }

        test "resubmit-failed submits only the failed, interrupted and lost runs, with the last submission's resources unless flags replace them" {
            withFakeSlurm (fun calls environment ->
                withFolder "slurm-resubmit" (fun results ->
                    fixtures results
                    let environment = ("FAKE_QUEUE", "77_1 77_4") :: environment
                    let dry = prunerlWith environment [ "sweep"; "--resubmit-failed"; results; "--time"; "30"; "--dry-run" ]
                    Expect.equal dry.ExitCode 0 (describe dry)
                    Expect.equal (submissions results).Length 1 "a dry run submits nothing"
                    Expect.isFalse (File.Exists calls) "nor calls sbatch"
                    let resubmitted = prunerlWith environment [ "sweep"; "--resubmit-failed"; results; "--time"; "30" ]
                    Expect.equal resubmitted.ExitCode 0 (describe resubmitted)
                    let submission = Array.last (submissions results)
                    let selected = [ "c_lost"; "d_failed"; "e_interrupted" ] |> List.map (fun n -> Path.Combine(results, n))
                    Expect.equal (File.ReadAllText(Path.Combine(submission, "manifest.txt"))) (selected |> List.map (fun r -> r + "\n") |> String.concat "") "a new manifest of those runs alone"
                    let script = File.ReadAllText(Path.Combine(submission, "job.sh"))
                    for line in [ "#SBATCH --array=0-2%2"; "#SBATCH --cpus-per-task=3"; "#SBATCH --mem=2G"; "#SBATCH --time=0-00:30:00" ] do
                        Expect.stringContains script (line + "\n") line
                    for i, run in List.indexed selected do
                        Expect.equal (state run) "pending" "pending again"
                        Expect.equal ((json (Path.Combine(run, "status.json"))).GetProperty("step").GetInt64()) ([ 500L; 700L; 1000L ][i]) "keeping how far it got"
                        Expect.equal ((json (Path.Combine(run, "slurm.json"))).GetProperty("task").GetInt32()) i "its new task"
                    for name, expected in [ "a_finished", "finished"; "b_running", "running"; "f_pending", "pending" ] do
                        Expect.equal (state (Path.Combine(results, name))) expected (name + " left alone")
                        Expect.equal ((json (Path.Combine(results, name, "slurm.json"))).GetProperty("job_id").GetInt64()) 77L (name + " keeps its task")))
        }
    ]
