#!/usr/bin/env bash
# slurm_job.sh [--fake-cluster] [--during REGEX COMMAND] [--after COMMAND] WANT_CODE REGEX...
#     -- TIDE_SBATCH_ARGS...: submits a job to the local Slurm cluster (scripts/slurm-local,
# brought up by scripts/test) with scripts/tide-sbatch, polls `scontrol show job` until it ends
# (within 180 s; then it is cancelled); passes when the exit code Slurm recorded is WANT_CODE and
# every REGEX (grep -E) matches some line of the output (a REGEX written !REGEX must match none).
# With --fake-cluster, the job goes to the many-node cluster on scripts/fake-cluster (slurm-local
# up --fake-cluster), with the Open MPI settings that reach its nodes. --during runs COMMAND
# (bash, with OUT naming the job's output file) once, as soon as a line of the output matches
# REGEX; --after runs COMMAND once the job has ended, and its output joins the job's for the
# REGEXes. --state STATE: the state the job must end in (default: COMPLETED for WANT_CODE 0).
# WANT_CODE - takes any exit code (a cancelled job's depends on where the signal found it).
set -uo pipefail
mode=() during_regex="" during="" after="" want_state=""
while [ $# -gt 0 ]; do
    case "${1:-}" in
        --fake-cluster) mode=(--fake-cluster); shift ;;
        --during) during_regex=$2 during=$3; shift 3 ;;
        --after) after=$2; shift 2 ;;
        --state) want_state=$2; shift 2 ;;
        *) break ;;
    esac
done
want=$1
shift
patterns=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    patterns+=("$1")
    shift
done
[ $# -gt 0 ] && shift  # the "--"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$("$here/scripts/slurm-local" env "${mode[@]}")"
if ((${#mode[@]})); then eval "$("$here/scripts/fake-cluster" env)"; fi
out=$(mktemp)
job=""
# A job still there at the end is cancelled, and so are satellites (--tide-satellites) left.
cleanup() {
    rm -f "$out"
    [ -n "$job" ] && scancel "$job" 2>/dev/null
    squeue --noheader --format='%i %j' 2>/dev/null | awk '$2 ~ /^tide-satellite-/ {print $1}' |
        xargs -r scancel
}
trap cleanup EXIT
job=$(timeout 30 "$here/scripts/tide-sbatch" -o "$out" "$@") || { echo "slurm_job.sh: submitting failed" >&2; exit 1; }
echo "job $job submitted"
# Poll the job's state (sbatch --wait polls at growing intervals, seconds late) until it ends,
# within a deadline; a job still there then is cancelled.
state="" recorded="" deadline=$((SECONDS + 180))
while ((SECONDS < deadline)); do
    if [ -n "$during" ] && grep -qE "$during_regex" "$out" 2>/dev/null; then
        echo "slurm_job.sh: the output matched '$during_regex': running $during"
        OUT=$out bash -c "$during"
        during=""
    fi
    info=$(scontrol show job "$job" 2>/dev/null)
    state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$info")
    case "$state" in
        PENDING | CONFIGURING | RUNNING | COMPLETING | "") sleep 0.5 ;;
        *) recorded=$(sed -n 's/.*ExitCode=\([0-9]*\):.*/\1/p' <<<"$info"); break ;;
    esac
done
if [ -n "$after" ] && [ -n "$recorded" ]; then OUT=$out bash -c "$after" >>"$out" 2>&1; fi
cat "$out"
echo "job $job ended $state, Slurm recorded exit code ${recorded:-?}"
[ -n "$recorded" ] || { echo "slurm_job.sh: the job did not end within 180 s" >&2; exit 1; }
job=""  # ended: nothing to cancel
[ "$want" = - ] || [ "$recorded" -eq "$want" ] || { echo "slurm_job.sh: exit code $recorded, wanted $want" >&2; exit 1; }
# A job killed at its time limit records exit code 0 (signal 15): only COMPLETED is a success.
[ -z "$want_state" ] && [ "$want" = 0 ] && want_state=COMPLETED
if [ -n "$want_state" ] && [ "$state" != "$want_state" ]; then
    echo "slurm_job.sh: the job ended $state, wanted $want_state" >&2; exit 1
fi
# The patterns are judged as expect.sh judges any command's output.
"$here/tests/expect.sh" 0 "${patterns[@]}" -- cat "$out" >/dev/null
