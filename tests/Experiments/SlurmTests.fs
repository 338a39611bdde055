/// The Slurm launcher's batch script, read and run: the text pinned for one job, and the script run by
/// bash as Slurm would run one array task (SLURM_ARRAY_TASK_ID set), without Slurm.
module Prunerl.Tests.SlurmTests

open System
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Tests.Processes

let private example =
    { Resources =
        { Slurm.defaults with
            Cpus = 2
            MemoryMegabytes = Some 4096L
            TimeLimitSeconds = Some 7200L
            Partition = Some "gpu"
            Account = Some "rl-lab"
            Gres = Some "gpu:1"
            Throttle = Some 4 }
      ResultsDir = "/scratch/sweep"
      LogDir = "/scratch/sweep/slurm/logs"
      Manifest = "/scratch/sweep/slurm/manifest-1.txt"
      Runs = [ "runs/w1-dense-s0"; "runs/w1-dense-s1"; "runs/w1-pruned-s0" ]
      Command = [ "/opt/prunerl/prunerl"; "train"; "--config"; "{run}/config.json"; "--out"; "{run}"; "--resume-if-exists" ] }

let private exampleScript =
    """#!/bin/bash
#SBATCH --job-name=prunerl
#SBATCH --array=0-2%4
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=0-02:00:00
#SBATCH --partition=gpu
#SBATCH --account=rl-lab
#SBATCH --gres=gpu:1
#SBATCH --requeue
#SBATCH --signal=B:TERM@60
#SBATCH --open-mode=append
#SBATCH --chdir="/scratch/sweep"
#SBATCH --output="/scratch/sweep/slurm/logs/%A_%a.out"
#SBATCH --error="/scratch/sweep/slurm/logs/%A_%a.err"
# Written by prunerl: array task i runs the run on line i + 1 of the manifest; a task that
# is requeued or resubmitted resumes from its run's checkpoint.
set -euo pipefail
manifest='/scratch/sweep/slurm/manifest-1.txt'
task=${SLURM_ARRAY_TASK_ID:?this script runs as a task of a Slurm job array}
mapfile -t runs <"$manifest"
if ((task >= ${#runs[@]})); then
    echo "prunerl: array task $task has no run: $manifest lists ${#runs[@]}" >&2
    exit 1
fi
run=${runs[task]}
echo "prunerl: array task $task (job ${SLURM_JOB_ID:-?}, restart ${SLURM_RESTART_COUNT:-0}, node ${SLURMD_NODENAME:-?}): $run"
if [[ ! -d $run ]]; then
    echo "prunerl: the run directory $run does not exist" >&2
    exit 1
fi
# A command that cannot be started records nothing itself: say so in the run's status.
failed_to_start() {
    local message="could not start $2 (exit $1)"
    local json=${message//\\/\\\\}
    json=${json//\"/\\\"}
    echo "{\"state\": \"failed\", \"error\": \"$json\"}" >"$run/status.json.tmp"
    mv -f "$run/status.json.tmp" "$run/status.json"
    echo "prunerl: $message" >&2
    exit 1
}
# execfail: a failed exec returns here; bash would still exit under set -e.
shopt -s execfail
set +e
exec '/opt/prunerl/prunerl' 'train' '--config' "$run"'/config.json' '--out' "$run" '--resume-if-exists'
failed_to_start $? '/opt/prunerl/prunerl'
"""

let private scratch () =
    let directory = Path.Combine(Path.GetTempPath(), "prunerl-slurm-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory directory |> ignore
    directory

/// Writes the job's manifest and script under `directory` and runs array task `task` with bash.
let private runTask (directory: string) (job: SlurmArrayJob) (task: int) =
    File.WriteAllText(job.Manifest, Slurm.manifest job.Runs)
    let script = Path.Combine(directory, "job.sh")
    File.WriteAllText(script, Slurm.batchScript job |> Result.defaultWith failwith)
    runWith [ "SLURM_ARRAY_TASK_ID", string task; "SLURM_JOB_ID", "77" ] "bash" [ script ] directory

/// A job over runs in `directory` (created) running `command`.
let private localJob (directory: string) (runs: string list) (command: string list) =
    for run in runs do
        Directory.CreateDirectory(Path.Combine(directory, run)) |> ignore
    { example with
        ResultsDir = directory
        LogDir = directory
        Manifest = Path.Combine(directory, "manifest.txt")
        Runs = runs |> List.map (fun r -> Path.Combine(directory, r))
        Command = command }

[<Tests>]
let tests =
    testList "Slurm launcher" [
        test "the batch script of an example job, line by line" {
            Expect.equal (Slurm.batchScript example) (Ok exampleScript) "the pinned script"
            Expect.equal (Slurm.manifest example.Runs) "runs/w1-dense-s0\nruns/w1-dense-s1\nruns/w1-pruned-s0\n" "the manifest"
        }

        test "each task runs the command for its own run, the run's name passed literally" {
            let directory = scratch ()
            try
                // Names a shell would split, expand or unquote if the script quoted them wrongly.
                let runs = [ "plain"; "with space"; "it's \"quoted\""; "$HOME `id` $(id) \\n *"; "{run}" ]
                let job = localJob directory runs [ "printf"; "<%s>\\n"; "--config"; "{run}/config.json"; "--out"; "{run}"; "x{run}y{run}z"; "" ]
                for task, run in List.indexed job.Runs do
                    let result = runTask directory job task
                    Expect.equal result.ExitCode 0 (describe result)
                    let lines = result.Output.TrimEnd('\n').Split('\n') |> List.ofArray
                    Expect.equal lines.Head (sprintf "prunerl: array task %d (job 77, restart 0, node ?): %s" task run) "the task says which run it runs"
                    Expect.equal
                        lines.Tail
                        [ "<--config>"; sprintf "<%s/config.json>" run; "<--out>"; sprintf "<%s>" run; sprintf "<x%sy%sz>" run run; "<>" ]
                        "the command's words, run substituted"
            finally
                Directory.Delete(directory, true)
        }

        test "a task without a run in the manifest, or whose run directory is gone, fails and says why" {
            let directory = scratch ()
            try
                let job = localJob directory [ "a"; "b" ] [ "true" ]
                let beyond = runTask directory job 2
                Expect.equal beyond.ExitCode 1 (describe beyond)
                Expect.stringContains beyond.Error "array task 2 has no run" "names the task"
                Directory.Delete(job.Runs[1])
                let gone = runTask directory job 1
                Expect.equal gone.ExitCode 1 (describe gone)
                Expect.stringContains gone.Error (sprintf "the run directory %s does not exist" job.Runs[1]) "names the run"
            finally
                Directory.Delete(directory, true)
        }

        test "a command that cannot be started leaves a failed status.json in its run" {
            let directory = scratch ()
            try
                let notExecutable = Path.Combine(directory, "not executable")
                File.WriteAllText(notExecutable, "")
                for program, exitCode in [ Path.Combine(directory, "no \"such\" \\ program"), 127; notExecutable, 126 ] do
                    let job = localJob directory [ "run" ] [ program; "train" ]
                    let result = runTask directory job 0
                    Expect.equal result.ExitCode 1 (describe result)
                    let status = JsonDocument.Parse(File.ReadAllText(Path.Combine(job.Runs[0], "status.json"))).RootElement
                    Expect.equal (status.GetProperty("state").GetString()) "failed" "state"
                    Expect.equal
                        (status.GetProperty("error").GetString())
                        (sprintf "could not start %s (exit %d)" program exitCode)
                        "the error names the program, quotes and backslashes intact"
                    Expect.isFalse (File.Exists(Path.Combine(job.Runs[0], "status.json.tmp"))) "no temporary file left"
            finally
                Directory.Delete(directory, true)
        }

        test "validation messages name the field and what is allowed" {
            Expect.equal
                (Slurm.parseTimeLimit "1:60")
                (Error "time_limit must be minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (a positive duration), got '1:60'")
                "seconds past 59"
            Expect.equal (Slurm.parseTimeLimit "1-12:30:00") (Ok 131_400L) "a day and a half"
            Expect.equal (Slurm.parseTimeLimit "90") (Ok 5400L) "minutes"
            Expect.equal
                (Slurm.parseMemory "4GB")
                (Error "memory must be a whole number of MiB or more with an optional unit K, M, G or T (4096M, 4G), got '4GB'")
                "Slurm has no GB"
            Expect.equal (Slurm.validate { Slurm.defaults with Cpus = 0 }) (Error "cpus must be >= 1, got 0") "cpus"
            Expect.equal
                (Slurm.validate { Slurm.defaults with Partition = Some "gpu debug" })
                (Error "partition must be a partition name or a comma-separated list (letters, digits, _ . -), got 'gpu debug'")
                "partition"
            Expect.equal
                (Slurm.validate { Slurm.defaults with TimeLimitSeconds = Some 60L })
                (Error "signal_lead must be below time_limit (60 s), got 60 s")
                "the warning signal would come at the start"
            Expect.equal
                (Slurm.validateJob { example with ResultsDir = "/scratch/100%" })
                (Error "results_dir must be an absolute path without '\"', '%' or '\\', got '/scratch/100%'")
                "a file-name pattern character"
        }

        test "sbatch --parsable's output gives the job id" {
            Expect.equal (Slurm.parseJobId "12345\n") (Ok 12345L) "id"
            Expect.equal (Slurm.parseJobId "12345;cluster-a\n") (Ok 12345L) "id;cluster"
            Expect.equal
                (Slurm.parseJobId "sbatch: error: Batch job submission failed: Invalid account\n")
                (Error "sbatch --parsable printed no job id (expected '<id>' or '<id>;<cluster>'), got 'sbatch: error: Batch job submission failed: Invalid account'")
                "an error instead of an id"
        }
    ]
