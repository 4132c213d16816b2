#!/usr/bin/env bash
# slurm_job.sh WANT_CODE REGEX -- TIDE_SBATCH_ARGS...: submits a job to the local Slurm cluster
# (scripts/slurm-local, brought up by scripts/test) with scripts/tide-sbatch --wait, within a
# deadline; passes when the job's exit code (as Slurm recorded it) is WANT_CODE and its output
# matches REGEX.
set -uo pipefail
want=$1 regex=$2
shift 3  # WANT_CODE REGEX --
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$("$here/scripts/slurm-local" env)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
job=$(timeout 180 "$here/scripts/tide-sbatch" -o "$out" --wait "$@")
code=$?
echo "job $job, sbatch --wait exit code $code"
cat "$out"
[ -n "$job" ] || { echo "slurm_job.sh: no job was submitted" >&2; exit 1; }
recorded=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*ExitCode=\([0-9]*\):.*/\1/p')
echo "Slurm recorded exit code ${recorded:-?}"
[ "$code" -eq "$want" ] || { echo "slurm_job.sh: exit code $code, wanted $want" >&2; exit 1; }
if [ -n "$recorded" ] && [ "$recorded" -ne "$want" ]; then
    echo "slurm_job.sh: Slurm recorded $recorded, wanted $want" >&2; exit 1
fi
grep -Eq -- "$regex" "$out" || { echo "slurm_job.sh: output does not match /$regex/" >&2; exit 1; }
