#!/usr/bin/env bash
# `prunerl sweep --launcher slurm` against a real Slurm: brings a one-node cluster up (tests/slurm/cluster.sh,
# under a fresh temporary directory), submits a sweep of 8 tiny CartPole runs (widths 1, 2 x dense and
# pruned to 0.9 x seeds 1, 2) as one throttled job array; once each has checkpointed, cancels task 0
# (SIGTERM: it checkpoints and says interrupted), requeues task 1, and kills task 2 outright (SIGKILL: its
# status still says running); waits for the array with squeue, and checks that:
#   - the requeued task ran again by itself and resumed from its checkpoint;
#   - the 6 other runs finished, and `sweep --status` reads 6 finished, 1 interrupted and 1 lost;
#   - `sweep --resubmit-failed` submits those two alone, and each resumes from its checkpoint (its task
#     log says so, and its metrics.csv is the same file, continued, each evaluation once) and finishes;
#   - `prunerl report` reads all 8 runs.
# Then stops exactly the daemons it started. Uses the built prunerl (Release; ./test.sh builds it).
# Prints "slurm sweep test: PASS" or "slurm sweep test: FAIL ..." with the elapsed time and exits 0 only on
# PASS (1 when a check fails, 3 when this machine cannot run a Slurm cluster: then nothing was tested).
# SLURM_SWEEP_TEST_KEEP=1 keeps the temporary directory (cluster logs, results) for reading.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cluster=$here/cluster.sh
dll=$repo/Cli/bin/Release/net10.0/prunerl.dll
readonly JOB_TIMEOUT_S=300
# Long enough (a few seconds) that the cancelled task is still running after its first checkpoint.
readonly GRID=(--env cartpole --width 1,2 --sparsity 0,0.9 --seed 1,2 --steps 5000
    --set checkpoint_every=500 --set eval_every=2500 --set eval_episodes=2)
readonly RESOURCES=(--cpus 1 --mem 1G --time 15 --throttle 2)

dir=$(mktemp -d /tmp/prunerl-slurm-sweep.XXXXXX)
# munged wants every directory on its socket's path searchable by all (mktemp makes it 700).
chmod 755 "$dir"

source "$here/checks.sh"
checks_on_exit "slurm sweep test" "$dir" "$dir/cluster" SLURM_SWEEP_TEST_KEEP

prunerl() { dotnet "$dll" "$@"; }

# Waits until the file exists.
wait_file() {
    local file=$1 deadline=$((SECONDS + JOB_TIMEOUT_S))
    until [[ -e $file ]]; do
        ((SECONDS < deadline)) || { echo "no $file after ${JOB_TIMEOUT_S}s"; return 1; }
        sleep 0.1
    done
}

# The job id from the sweep's "Submitted job array N: ..." line.
job_of() { sed -n 's/^Submitted job array \([0-9]*\):.*/\1/p' <<<"$1"; }

state_of() { sed -n 's/.*"state": "\([a-z]*\)".*/\1/p' "$1/status.json"; }
step_of() { sed -n 's/.*"step": \([0-9]*\).*/\1/p' "$1/status.json"; }

[[ -f $dll ]] || { echo "$dll is not built (run ./test.sh, or dotnet build Cli -c Release)"; exit 1; }

"$cluster" up "$dir/cluster" || exit $?
eval "$("$cluster" env "$dir/cluster")"
results=$dir/results

# --- submission: the grid as one array ----------------------------------------------------------------
sweep_started=$SECONDS
output=$(prunerl sweep --launcher slurm "${RESOURCES[@]}" --out "$results" "${GRID[@]}" 2>&1) || true
echo "$output" | sed 's/^/     /'
job=$(job_of "$output")
check "sweep --launcher slurm submitted one job array" [ -n "$job" ]
[[ -n $job ]] || exit 1
runs=$(ls "$results" | sort)
check "8 run folders, one per grid point" same "$(wc -l <<<"$runs")" 8
check "the batch script asks for the array with its throttle and the resources" \
    grep -qx '#SBATCH --array=0-7%2' "$results"/.slurm/*/job.sh
check "the batch script asks for 1 CPU, 1G and 15 minutes per task" \
    same "$(grep -E -- '--(cpus-per-task|mem|time)=' "$results"/.slurm/*/job.sh | tr '\n' ' ')" \
    "#SBATCH --cpus-per-task=1 #SBATCH --mem=1G #SBATCH --time=0-00:15:00 "
check "the tasks run this build of prunerl" grep -qF "'$dll' 'train'" "$results"/.slurm/*/job.sh

# Tasks 0 and 1 run first (throttle 2): once each has checkpointed, while still training, cancel task 0
# (it stays interrupted until resubmitted) and requeue task 1 (Slurm starts it again by itself).
victim=$(sed -n 1p "$results"/.slurm/*/manifest.txt)
requeued=$(sed -n 2p "$results"/.slurm/*/manifest.txt)
check "the task to cancel checkpointed" wait_file "$victim/checkpoint/checkpoint.bin"
check "scancel ${job}_0 was accepted" scancel "${job}_0"
check "the task to requeue checkpointed" wait_file "$requeued/checkpoint/checkpoint.bin"
check "scontrol requeue ${job}_1 was accepted" scontrol requeue "${job}_1"
status=$(prunerl sweep --status "$results")
check "sweep --status while the array runs finds every unfinished task in squeue (none lost)" \
    grep -qE '^8 runs: .*, 0 lost$' <<<"$status"
# Task 2 starts once task 0 is gone: kill it outright once it has checkpointed, so that it cannot say so.
killed=$(sed -n 3p "$results"/.slurm/*/manifest.txt)
check "the task to kill checkpointed" wait_file "$killed/checkpoint/checkpoint.bin"
# The task's own processes, as Slurm tracks them (scontrol listpids), get SIGKILL: scancel would send SIGTERM first.
kill_task() {
    local id pids
    id=$(squeue -h -j "$1" -o %A) && [[ -n $id ]] || return 1
    pids=$(scontrol listpids "$id" | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }')
    [[ -n $pids ]] || return 1
    # shellcheck disable=SC2086 # one PID per word
    kill -KILL $pids
}
check "task ${job}_2's processes were killed (SIGKILL)" kill_task "${job}_2"
check "the array left the queue within ${JOB_TIMEOUT_S}s" wait_job "$job"
check "the requeued task ran again and resumed from its checkpoint (its log says so)" \
    grep -q "^Resuming from the checkpoint in $requeued/checkpoint" "$results"/.slurm/*/logs/"${job}"_1.out
check "the requeued run's evaluations are each in its metrics once" \
    same "$(grep ',eval/return,' "$requeued/metrics.csv" | cut -d, -f1 | tr '\n' ' ')" "2500 5000 "
echo "     (the array: $((SECONDS - sweep_started))s from submission to the queue empty)"
check "the cancelled run is interrupted" same "$(state_of "$victim")" interrupted
stopped_at=$(step_of "$victim")
check "the cancelled run stopped part way (its status: step $stopped_at of 5000)" [ "${stopped_at:-5000}" -lt 5000 ]
check "the killed run's status still says running (it had no chance to say otherwise)" same "$(state_of "$killed")" running
for run in $runs; do
    [[ $results/$run == "$victim" || $results/$run == "$killed" ]] && continue
    check "$run finished" same "$(state_of "$results/$run")" finished
done
status=$(prunerl sweep --status "$results")
echo "$status" | sed 's/^/     /'
check "sweep --status counts 6 finished, 1 interrupted and 1 lost" \
    grep -qx '8 runs: 0 pending, 0 running, 6 finished, 0 failed, 1 interrupted, 1 lost' <<<"$status"
check "sweep --status shows the lost run with its task's log" \
    grep -q "$(basename "$killed") .*lost.*no longer in Slurm's queue; log $results/.slurm/.*/logs/${job}_2.out" <<<"$status"

# --- resubmission: the interrupted and the lost run alone, each resumed from its checkpoint ------------
declare -A inode
for run in "$victim" "$killed"; do inode[$run]=$(stat -c %i "$run/metrics.csv"); done
output=$(prunerl sweep --resubmit-failed "$results" 2>&1) || true
echo "$output" | sed 's/^/     /'
resubmitted=$(job_of "$output")
check "sweep --resubmit-failed submitted a job" [ -n "$resubmitted" ]
# Submissions are named by their UTC time: the last in order is the newest.
manifest=$(printf '%s\n' "$results"/.slurm/*/manifest.txt | sort | tail -n 1)
check "it submitted the interrupted and the lost run alone, in a new manifest" \
    same "$(sort "$manifest")" "$(printf '%s\n' "$victim" "$killed" | sort)"
check "the resubmitted job left the queue within ${JOB_TIMEOUT_S}s" wait_job "$resubmitted"
for run in "$victim" "$killed"; do
    name=$(basename "$run")
    task=$(($(grep -nx "$run" "$manifest" | cut -d: -f1) - 1))
    check "$name finished after resubmission" same "$(state_of "$run")" finished
    check "$name resumed from its checkpoint (its log says so)" \
        grep -q "^Resuming from the checkpoint in $run/checkpoint" "$results"/.slurm/*/logs/"${resubmitted}_$task".out
    check "$name's metrics.csv was continued, not written anew" same "$(stat -c %i "$run/metrics.csv")" "${inode[$run]}"
    check "$name's evaluations are each in its metrics once" \
        same "$(grep ',eval/return,' "$run/metrics.csv" | cut -d, -f1 | tr '\n' ' ')" "2500 5000 "
done
status=$(prunerl sweep --status "$results")
check "sweep --status counts 8 finished" grep -qx '8 runs: 0 pending, 0 running, 8 finished, 0 failed, 0 interrupted, 0 lost' <<<"$status"
check "sweep --resubmit-failed then finds nothing to do" \
    grep -q "nothing to resubmit" <<<"$(prunerl sweep --resubmit-failed "$results")"

# --- report over every run -----------------------------------------------------------------------------
report=$(prunerl report "$results" --out "$dir/report" 2>&1) && reported=0 || reported=$?
echo "$report" | tail -n 5 | sed 's/^/     /'
check "prunerl report read the results (exit 0)" same "$reported" 0
check "prunerl report took all 8 runs" grep -q "^8 runs from $results" <<<"$report"
check "prunerl report scored 8 finished runs" same "$(grep -c '^cartpole_[^,]*,cartpole,[12],finished,' "$dir/report/scores.csv")" 8
