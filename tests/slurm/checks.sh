# Sourced by selftest.sh and sweep-test.sh (not run): counts checks and their failures, waits for jobs,
# and on exit stops the test cluster, removes the scratch directory and prints the verdict.
#   checks_on_exit NAME SCRATCH CLUSTER_DIR KEEP_VARIABLE
# prints "NAME: PASS (N checks, Ts)" or "NAME: FAIL ..." when the script ends, and exits 0 only on PASS
# (1 when a check failed, 3 when the machine cannot run a Slurm cluster); KEEP_VARIABLE=1 in the
# environment keeps SCRATCH for reading. Expects $cluster (cluster.sh) and JOB_TIMEOUT_S to be set.

checks_started=$SECONDS
checks=0
failures=0

checks_on_exit() {
    checks_name=$1 checks_scratch=$2 checks_cluster_dir=$3 checks_keep_variable=$4
    trap checks_finish EXIT
}

checks_finish() {
    local rc=$?
    "$cluster" down "$checks_cluster_dir" || true
    if [[ ${!checks_keep_variable:-0} == 1 ]]; then echo "kept $checks_scratch"; else rm -rf "$checks_scratch"; fi
    local elapsed=$((SECONDS - checks_started))
    if [[ $rc -eq 3 ]]; then
        echo "$checks_name: FAIL: this machine cannot run a Slurm cluster (see above); nothing was tested (${elapsed}s)"
    elif [[ $rc -ne 0 || $failures -gt 0 ]]; then
        echo "$checks_name: FAIL ($failures of $checks checks failed, exit $rc, ${elapsed}s)"
        [[ $rc -ne 0 ]] || rc=1
    else
        echo "$checks_name: PASS ($checks checks, ${elapsed}s)"
    fi
    exit "$rc"
}

# check WHAT COMMAND...: runs the command and counts it as passed (exit 0) or failed.
check() {
    local what=$1
    shift
    checks=$((checks + 1))
    if "$@"; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        failures=$((failures + 1))
    fi
}

# The two strings are equal; shows both when they are not.
same() {
    [[ $1 == "$2" ]] && return 0
    printf '     got:      %q\n     expected: %q\n' "$1" "$2"
    return 1
}

# Waits until none of the job's tasks is pending, running or completing.
wait_job() {
    local job=$1 deadline=$((SECONDS + JOB_TIMEOUT_S))
    while [[ -n $(squeue -h -j "$job" 2>/dev/null) ]]; do
        if ((SECONDS >= deadline)); then
            echo "job $job still queued after ${JOB_TIMEOUT_S}s:"
            squeue -j "$job"
            return 1
        fi
        sleep 0.5
    done
}
