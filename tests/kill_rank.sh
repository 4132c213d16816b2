#!/usr/bin/env bash
# kill_rank.sh DELAY worker|rank0 WITHIN -- COMMAND...: runs COMMAND (an mpirun or a singleton
# tide program) and, DELAY seconds after the first process of that kind appeared (a rank other
# than 0 or a spawned worker; or rank 0), kills one with SIGKILL: of the workers, the one that
# has used the most CPU (a working one, not a spawned process stuck in MPI_Init). Passes
# COMMAND's exit code through, but fails if COMMAND has not ended WITHIN seconds after the kill
# (then every process it started is killed). Processes are found by a marker in their
# environment.
set -uo pipefail
delay=$1 which=$2 within=$3
shift 4  # DELAY WHICH WITHIN --
marker="kill-rank-$$-$RANDOM"
KILL_RANK_MARK=$marker "$@" &
cmd=$!
marked() {
    grep -lxz "KILL_RANK_MARK=$marker" /proc/[0-9]*/environ 2>/dev/null |
        sed 's|^/proc/\([0-9]*\)/environ$|\1|' || true
}
is_rank() {  # PID RANK-PATTERN: a tide process whose MPI rank matches (not mpirun, not orted)
    tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"
}
spawned() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "--tide-spawned-base"; }
cpu_ticks() {  # utime + stime of PID, from /proc/PID/stat (fields 14 and 15)
    awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}
find_victim() {
    local best="" most=-1 ticks
    for pid in $(marked); do
        if [ "$which" = rank0 ]; then
            is_rank "$pid" 0 && ! spawned "$pid" && echo "$pid" && return
        elif is_rank "$pid" "[1-9][0-9]*" || spawned "$pid"; then
            ticks=$(cpu_ticks "$pid")
            ((ticks > most)) && best=$pid most=$ticks
        fi
    done
    [ -n "$best" ] && echo "$best"
}
# A loaded machine may take seconds to start (or spawn) the process: wait for it first.
victim=""
for _ in $(seq 600); do
    victim=$(find_victim)
    [ -n "$victim" ] && break
    sleep 0.1
done
[ -n "$victim" ] && sleep "$delay" && victim=$(find_victim)
if [ -z "$victim" ]; then
    echo "kill_rank.sh: no $which process found" >&2
    kill -9 $(marked) 2>/dev/null
    wait "$cmd"
    exit 1
fi
echo "kill_rank.sh: at $(date +%T.%3N) killing $which, pid $victim: $(tr '\0' ' ' <"/proc/$victim/cmdline")" >&2
kill -9 "$victim"
killed_at=$SECONDS
for _ in $(seq $((within * 10))); do
    kill -0 "$cmd" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$cmd" 2>/dev/null; then
    echo "kill_rank.sh: the command had not ended $within s after the kill" >&2
    kill -9 $(marked) 2>/dev/null
    wait "$cmd"
    exit 1
fi
wait "$cmd"
code=$?
echo "kill_rank.sh: the command ended $((SECONDS - killed_at)) s after the kill, exit code $code" >&2
exit "$code"
