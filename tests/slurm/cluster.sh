#!/usr/bin/env bash
# A throwaway one-node Slurm cluster on localhost, for testing the Slurm launcher against the real thing.
#
#   tests/slurm/cluster.sh up DIR     install the packages if missing, configure and start munged,
#                                     slurmctld and slurmd under DIR, wait until the node is idle
#   tests/slurm/cluster.sh down DIR   cancel this cluster's jobs, stop exactly the daemons whose PID
#                                     files are in DIR (nothing else), keep DIR (logs) for reading
#   tests/slurm/cluster.sh env DIR    print the line that points Slurm's commands at the cluster
#
# Everything lives in DIR: slurm.conf (the commands find it through SLURM_CONF), the munge key and socket,
# the controller's state, slurmd's spool, the daemons' PID files and logs. Nothing under /etc is used,
# so several clusters can run side by side (each on its own free ports) and the system's own munge or
# Slurm, if any, is left alone. Debian 12 packages Slurm 22.05; the daemons run as the invoking user
# (root in CI), with process tracking by /proc (no cgroups) and no accounting daemon.
#
# Exit codes: 0 ok; 2 usage; 3 this machine cannot run the daemons (missing packages that cannot be
# installed, a daemon that refuses to start or a node that never becomes idle): the message says which
# and shows the end of the daemon's log.
set -euo pipefail

readonly IDLE_TIMEOUT_S=${SLURM_CLUSTER_IDLE_TIMEOUT_S:-60}
readonly STOP_TIMEOUT_S=15
readonly PACKAGES=(munge slurmctld slurmd slurm-client)
readonly NODE=prunerl-node

say() { echo "cluster.sh: $*" >&2; }

# A failure of the machine rather than of the caller: say what and why, exit 3.
cannot() {
    say "CANNOT RUN SLURM HERE: $1"
    if [[ $# -ge 2 && -f $2 ]]; then
        say "last lines of $2:"
        tail -n 15 "$2" | sed 's/^/    /' >&2
    fi
    exit 3
}

usage() {
    echo "usage: $0 up|down|env DIR" >&2
    exit 2
}

install_if_missing() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    [[ $(id -u) -eq 0 ]] || cannot "packages missing (${missing[*]}) and not root to install them"
    command -v apt-get >/dev/null || cannot "packages missing (${missing[*]}) and no apt-get"
    say "installing ${missing[*]}"
    local log
    log=$(mktemp)
    # Debian's policy-rc.d (where present) keeps the packages' own services from starting; this
    # cluster starts its daemons itself. Another apt on the machine holds the lock for a while: wait.
    local apt=(apt-get -q -o DPkg::Lock::Timeout=300)
    if ! { DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" ||
           { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; }; } >"$log" 2>&1; then
        cannot "apt-get could not install ${missing[*]}" "$log"
    fi
    rm -f "$log"
}

# TCP ports that something on this machine is using (any state, IPv4 and IPv6), one per line.
ports_in_use() {
    local f _ local_address _rest
    for f in /proc/net/tcp /proc/net/tcp6; do
        [[ -r $f ]] || continue
        # Lines: "sl local_address rem_address st ...", the port in hex after the last colon.
        while read -r _ local_address _rest; do
            if [[ $local_address == *:* ]]; then echo $((16#${local_address##*:})); fi
        done < <(tail -n +2 "$f")
    done | sort -un
}

# Two consecutive free ports from a random start in [20000, 30000), for slurmctld and slurmd.
free_port_pair() {
    local used p tries
    used=$(ports_in_use)
    for ((tries = 0; tries < 200; tries++)); do
        p=$((20000 + RANDOM % 9999))
        if ! grep -qx "$p" <<<"$used" && ! grep -qx "$((p + 1))" <<<"$used"; then
            echo "$p"
            return 0
        fi
    done
    cannot "no free TCP port pair in [20000, 30000)"
}

# The PID in FILE if that process is alive and runs BINARY (so a stale file whose PID was reused by
# something else is never taken for a daemon of this cluster); nothing otherwise.
live_pid() {
    local file=$1 binary=$2 pid exe
    [[ -s $file ]] || return 0
    pid=$(tr -dc '0-9' <"$file")
    [[ -n $pid ]] || return 0
    exe=$(readlink -f "/proc/$pid/exe" 2>/dev/null) || return 0
    [[ $exe == "$(readlink -f "$(command -v "$binary")")" ]] && echo "$pid"
    return 0
}

wait_gone() {
    local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT_S))
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

stop_daemon() {
    local name=$1 pidfile=$2 pid
    pid=$(live_pid "$pidfile" "$name")
    if [[ -z $pid ]]; then
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid"; then
        say "$name ($pid) ignored SIGTERM for ${STOP_TIMEOUT_S}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" || say "$name ($pid) is still alive"
    fi
    rm -f "$pidfile"
    say "stopped $name ($pid)"
}

daemons_up() {
    local dir=$1
    [[ -n $(live_pid "$dir/munged.pid" munged) && -n $(live_pid "$dir/slurmctld.pid" slurmctld) &&
        -n $(live_pid "$dir/slurmd.pid" slurmd) ]]
}

node_state() { sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null || true; }

cmd_down() {
    local dir=$1
    [[ -d $dir ]] || { say "no cluster directory $dir"; return 0; }
    export SLURM_CONF=$dir/slurm.conf
    # This cluster's jobs first, so that no job step outlives its slurmd.
    if [[ -n $(live_pid "$dir/slurmctld.pid" slurmctld) ]]; then
        local jobs deadline=$((SECONDS + STOP_TIMEOUT_S))
        jobs=$(squeue -h -o '%A' 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086 # one job id per word
            scancel $jobs 2>/dev/null || true
            while [[ -n $(squeue -h -o '%A' 2>/dev/null || true) ]] && ((SECONDS < deadline)); do sleep 0.5; done
        fi
    fi
    stop_daemon slurmd "$dir/slurmd.pid"
    stop_daemon slurmctld "$dir/slurmctld.pid"
    stop_daemon munged "$dir/munged.pid"
}

write_config() {
    local dir=$1 port=$2 node_line=$3 cpus=$4 memory=$5 cluster=$6
    local user
    user=$(id -un)
    cat >"$dir/slurm.conf" <<EOF
# Written by tests/slurm/cluster.sh: a one-node test cluster living in $dir.
ClusterName=$cluster
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also sets how long a requeued job waits before it may start again (120 s by default).
AuthInfo=socket=$dir/munge/munge.socket.2,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: track processes through /proc and bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job that does not ask for memory would hold the whole node.
DefMemPerCPU=$((memory / cpus))
ReturnToService=2
SchedulerType=sched/backfill
# Look at pending jobs every second or two (60 s and 30 s by default): a requeued task starts soon after
# it may.
SchedulerParameters=sched_interval=2,bf_interval=1
# Quick turnarounds for tests: a cancelled or requeued job's processes get 5 s between SIGTERM and SIGKILL.
KillWait=5
MinJobAge=600
InactiveLimit=0
SlurmdTimeout=60
$node_line
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

cmd_up() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    export SLURM_CONF=$dir/slurm.conf

    if daemons_up "$dir"; then
        say "already up in $dir"
    else
        install_if_missing
        # Leftovers of an earlier run in DIR (a crashed daemon, stale PID files, old job state).
        cmd_down "$dir" 2>/dev/null
        rm -rf "$dir/state" "$dir/spool" "$dir/munge"
        rm -f "$dir"/*.log "$dir/munged.seed"

        # munged refuses a socket directory that is not mode 755, a key readable by others, and any
        # directory on its paths that others can write to.
        chmod 755 "$dir"
        mkdir -m 755 "$dir/munge"
        mkdir -m 700 "$dir/state" "$dir/spool"
        if [[ ! -s $dir/munge.key ]]; then
            mungekey --create --keyfile="$dir/munge.key" 2>/dev/null ||
                dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
        fi
        chmod 600 "$dir/munge.key"

        # The node as slurmd sees it (CPUs, sockets, cores, threads, memory), so the node is not
        # drained for a configuration that does not match the hardware.
        local detected cpus memory port
        detected=$(slurmd -C | head -n 1) || cannot "slurmd -C could not describe this node"
        cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$detected")
        memory=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$detected")
        [[ -n $cpus && -n $memory ]] || cannot "could not read CPUs and memory from: $detected"
        port=$(free_port_pair)
        write_config "$dir" "$port" \
            "NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$(hostname -s) ${detected#NodeName=* } State=UNKNOWN" \
            "$cpus" "$memory" "prunerl$port"

        # From here on a failure stops whatever this call started.
        starting_dir=$dir
        trap 'cmd_down "$starting_dir" 2>/dev/null' EXIT

        munged --key-file="$dir/munge.key" --socket="$dir/munge/munge.socket.2" \
            --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
            >>"$dir/munged.log" 2>&1 || cannot "munged did not start" "$dir/munged.log"
        echo probe | munge --socket="$dir/munge/munge.socket.2" | unmunge --socket="$dir/munge/munge.socket.2" >/dev/null 2>&1 ||
            cannot "munged started but cannot encode and decode a credential" "$dir/munged.log"

        slurmctld -i >>"$dir/slurmctld.log" 2>&1 || cannot "slurmctld did not start" "$dir/slurmctld.log"
        slurmd -N "$NODE" >>"$dir/slurmd.log" 2>&1 || cannot "slurmd did not start" "$dir/slurmd.log"
    fi

    local deadline=$((SECONDS + IDLE_TIMEOUT_S)) state
    while :; do
        state=$(node_state)
        [[ $state == idle || $state == mixed || $state == allocated ]] && break
        daemons_up "$dir" || cannot "a daemon stopped while the node came up (state '$state')" "$dir/slurmctld.log"
        ((SECONDS < deadline)) || cannot "node $NODE not idle after ${IDLE_TIMEOUT_S}s (state '$state')" "$dir/slurmd.log"
        sleep 0.5
    done
    trap - EXIT
    say "up in $dir: node $NODE $state, slurmctld on port $(sed -n 's/^SlurmctldPort=//p' "$dir/slurm.conf"); $(cmd_env "$dir")"
}

cmd_env() { echo "export SLURM_CONF=$1/slurm.conf"; }

[[ $# -eq 2 ]] || usage
case $1 in
    up) cmd_up "$2" ;;
    down) cmd_down "$(cd "$2" 2>/dev/null && pwd || echo "$2")" ;;
    env) cmd_env "$(cd "$2" && pwd)" ;;
    *) usage ;;
esac
