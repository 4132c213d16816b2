#!/usr/bin/env bash
# kill_in_job.sh OUTPUT NAME: kills (SIGTERM) the processes called NAME that belong to the Slurm
# job whose tide output OUTPUT is (rank 0 names its job there: "Slurm job N: nodes ..."), and
# no other: another test's process of that name is left alone.
set -uo pipefail
job=$(sed -n 's/.*Slurm job \([0-9]*\): nodes.*/\1/p' "$1" | head -1)
[ -n "$job" ] || { echo "kill_in_job.sh: no Slurm job named in $1" >&2; exit 1; }
killed=0
for pid in $(pgrep -x "$2"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_JOB_ID=$job"; then
        kill "$pid" && killed=$((killed + 1))
    fi
done
echo "kill_in_job.sh: killed $killed $2 process(es) of Slurm job $job"
((killed > 0))
