#!/usr/bin/env bash
# Proves that tests/slurm/cluster.sh gives a working Slurm: brings a one-node cluster up under a fresh
# temporary directory, and checks against it what the Slurm launcher relies on:
#   1. a throttled job array (sbatch --array=0-3%2): every task runs once with its own index, never
#      more than 2 at a time, and writes its output and its log where it was told;
#   2. `scontrol requeue` of a running task: the task is stopped, runs again by itself, and resumes from
#      the checkpoint it left;
#   3. `scancel` of a running task, then resubmitting it: the new job resumes from the checkpoint.
# Then stops exactly the daemons it started. Prints "slurm selftest: PASS" or "slurm selftest: FAIL ..."
# with the elapsed time; exits 0 only on PASS (1 when a check fails, 3 when this machine cannot run the
# daemons at all). SLURM_SELFTEST_KEEP=1 keeps the temporary directory (logs, outputs) for reading.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/cluster.sh
readonly JOB_TIMEOUT_S=120
readonly STEPS=12          # the resumable task's length, in steps of STEP_S seconds
readonly STEP_S=0.3

dir=$(mktemp -d /tmp/prunerl-slurm-selftest.XXXXXX)

source "$here/checks.sh"
checks_on_exit "slurm selftest" "$dir" "$dir" SLURM_SELFTEST_KEEP

# Waits until FILE holds a number >= N (a task's progress).
wait_progress() {
    local file=$1 n=$2 deadline=$((SECONDS + JOB_TIMEOUT_S))
    until [[ -s $file && $(cat "$file") -ge $n ]]; do
        if ((SECONDS >= deadline)); then
            echo "no progress to $n in $file after ${JOB_TIMEOUT_S}s"
            return 1
        fi
        sleep 0.2
    done
}

# "TASK STATE" lines of a job array, whatever their state (finished tasks included).
task_states() { squeue -h -r -t all -j "$1" -o '%K %T' | sort -n; }

"$cluster" up "$dir"
eval "$("$cluster" env "$dir")"
work=$dir/work
mkdir -p "$work"

# --- 1. a throttled array ----------------------------------------------------------------------------
mkdir -p "$work/array/running"
cat >"$work/array.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
out=$1
touch "$out/running/$SLURM_ARRAY_TASK_ID"
ls "$out/running" | wc -l >>"$out/concurrency"
sleep 1
echo "task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID" >"$out/result-$SLURM_ARRAY_TASK_ID"
rm "$out/running/$SLURM_ARRAY_TASK_ID"
EOF
array_started=$SECONDS
array_job=$(sbatch --parsable --array=0-3%2 --job-name=selftest-array --time=00:05:00 --cpus-per-task=1 --mem=100M \
    --output="$work/array/%A_%a.out" --error="$work/array/%A_%a.err" "$work/array.sh" "$work/array")
check "sbatch --parsable printed a job id ($array_job)" grep -qx '[0-9]\+' <<<"$array_job"
check "the array's throttle is 2" grep -q 'ArrayTaskThrottle=2' <(scontrol show job "$array_job")
check "the array finished within ${JOB_TIMEOUT_S}s" wait_job "$array_job"
echo "     (4 tasks of 1 s, 2 at a time: $((SECONDS - array_started))s from submission to the last one finished)"
check "every task completed" same "$(task_states "$array_job")" "$(printf '%s COMPLETED\n' 0 1 2 3)"
for i in 0 1 2 3; do
    check "task $i wrote its result" same "$(cat "$work/array/result-$i" 2>/dev/null)" "task $i of job $array_job"
    check "task $i's log files are where they were asked for" test -f "$work/array/${array_job}_$i.out" -a -f "$work/array/${array_job}_$i.err"
done
check "never more than 2 tasks ran at once" [ "$(sort -n "$work/array/concurrency" | tail -n 1)" -le 2 ]

# --- a task that checkpoints each step and resumes from its checkpoint ---------------------------------
cat >"$work/resumable.sh" <<EOF
#!/bin/bash
set -euo pipefail
task=\$1/task-\$SLURM_ARRAY_TASK_ID
mkdir -p "\$task"
step=0
if [[ -s \$task/checkpoint ]]; then step=\$(cat "\$task/checkpoint"); fi
echo "start \$step restart \${SLURM_RESTART_COUNT:-0}" >>"\$task/log"
while ((step < $STEPS)); do
    sleep $STEP_S
    step=\$((step + 1))
    echo "\$step" >"\$task/checkpoint.tmp"
    mv "\$task/checkpoint.tmp" "\$task/checkpoint"
done
echo "done \$step" >>"\$task/log"
EOF
submit_resumable() {
    sbatch --parsable --array="$1" --requeue --job-name=selftest-resume --time=00:05:00 --mem=100M \
        --output="$work/resume/%A_%a.out" "$work/resumable.sh" "$work/resume"
}
mkdir -p "$work/resume"

# The task's log: one "start <step> restart <count>" line per run, "done <steps>" at the end.
# Resumed means: more than one start, a later start from a step > 0, and finished.
resumed() {
    local log=$work/resume/task-$1/log
    [[ $(grep -c '^start' "$log") -ge 2 ]] && grep -q '^start [1-9]' "$log" && grep -qx "done $STEPS" "$log"
}

# --- 2. scontrol requeue of a running task -------------------------------------------------------------
requeue_started=$SECONDS
requeue_job=$(submit_resumable 0-1)
check "task 0 of the requeue job made progress" wait_progress "$work/resume/task-0/checkpoint" 3
check "scontrol requeue ${requeue_job}_0 was accepted" scontrol requeue "${requeue_job}_0"
check "the requeue job finished within ${JOB_TIMEOUT_S}s" wait_job "$requeue_job"
echo "     (requeue: $((SECONDS - requeue_started))s from submission to both tasks finished)"
check "both tasks of the requeue job completed" same "$(task_states "$requeue_job")" "$(printf '%s COMPLETED\n' 0 1)"
check "the requeued task ran again with SLURM_RESTART_COUNT=1" grep -q '^start [0-9]* restart 1$' "$work/resume/task-0/log"
check "the requeued task resumed from its checkpoint" resumed 0
check "the other task ran once, from the start" same "$(cat "$work/resume/task-1/log")" "$(printf 'start 0 restart 0\ndone %s' "$STEPS")"

# --- 3. scancel of a running task, then resubmission ----------------------------------------------------
rm -rf "$work/resume/task-2"
cancel_job=$(submit_resumable 2)
check "the task to cancel made progress" wait_progress "$work/resume/task-2/checkpoint" 3
check "scancel ${cancel_job}_2 was accepted" scancel "${cancel_job}_2"
check "the cancelled job left the queue" wait_job "$cancel_job"
check "the cancelled task is CANCELLED" same "$(task_states "$cancel_job")" "2 CANCELLED"
check "the cancelled task stopped part way" [ "$(cat "$work/resume/task-2/checkpoint")" -lt "$STEPS" ]
resubmitted_job=$(submit_resumable 2)
check "the resubmitted job finished within ${JOB_TIMEOUT_S}s" wait_job "$resubmitted_job"
check "the resubmitted task completed" same "$(task_states "$resubmitted_job")" "2 COMPLETED"
check "the resubmitted task resumed from the checkpoint" resumed 2
