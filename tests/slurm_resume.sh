#!/usr/bin/env bash
# slurm_resume.sh DIR TASKS SLEEP_MS PROGRAM: a campaign (tests/programs/journaled.cpp) longer
# than its job's one-minute time limit, submitted to the local Slurm (scripts/slurm-local) as a
# chain of three jobs with scripts/tide-sbatch --resume 3 and a journal. Passes when the first job
# hits its time limit, the second finishes the campaign with every result right, answering from
# the journal what the first finished (none of which runs again), the third is cancelled, and
# what ran in the two jobs covers every task. Prints what the time limit cost: the tasks that
# ran in both jobs.
set -uo pipefail
dir=$1 tasks=$2 sleep_ms=$3 program=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$("$here/scripts/slurm-local" env)"
fail() { echo "slurm_resume.sh: $*" >&2; exit 1; }
rm -rf "$dir" && mkdir -p "$dir"
jobs=()
# shellcheck disable=SC2317  # run by the EXIT trap
cancel() { ((${#jobs[@]})) && scancel "${jobs[@]}" 2>/dev/null; }
trap cancel EXIT
mapfile -t jobs < <(timeout 30 "$here/scripts/tide-sbatch" --resume 3 -n 3 --ranks 3 --overcommit \
    -t 00:01:00 -o "$dir/job-%j.out" -- "$program" "$tasks" "$sleep_ms" "$dir/ran-%j" \
    --tide-journal="$dir/journal")
((${#jobs[@]} == 3)) || fail "tide-sbatch --resume 3 did not print three job ids: ${jobs[*]}"
echo "jobs ${jobs[*]} submitted"
state_of() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
# The first job ends at its limit (Slurm looks every 30 s: 60 to 90 s in), the second then
# finishes the rest.
deadline=$((SECONDS + 300))
while ((SECONDS < deadline)); do
    states=()
    for j in "${jobs[@]}"; do states+=("$(state_of "$j")"); done
    case "${states[*]}" in *PENDING* | *RUNNING* | *CONFIGURING* | *COMPLETING*) sleep 1 ;; *) break ;; esac
done
echo "job states: ${states[*]}"
for j in "${jobs[@]}"; do
    [ -e "$dir/job-$j.out" ] && { echo "--- job $j"; grep -v "^\[tide summary\]  " "$dir/job-$j.out"; }
done
[ "${states[*]}" = "TIMEOUT COMPLETED CANCELLED" ] ||
    fail "wanted the states TIMEOUT COMPLETED CANCELLED"
ids=("${jobs[@]}")
jobs=()  # all ended: nothing to cancel
ran1=$dir/ran-${ids[0]} ran2=$dir/ran-${ids[1]}
touch "$ran1" "$ran2"
result=$(grep "^$tasks tasks: " "$dir/job-${ids[1]}.out")
grep -q "^$tasks tasks: $tasks results right, 0 wrong, 0 failed; resumed [0-9]*," <<<"$result" ||
    fail "the second job did not get every result right"
resumed=$(sed -n 's/.*; resumed \([0-9]*\),.*/\1/p' <<<"$result")
done2=$(wc -l <"$ran2")
both=$(comm -12 <(sort -u "$ran1") <(sort -u "$ran2") | wc -l)
echo "first job: $(sort -u "$ran1" | wc -l) task(s) ran before its time limit; second job: $resumed answered by the journal, $done2 ran; $both ran in both"
((resumed > 0)) || fail "the journal answered nothing"
(($(sort "$ran2" | uniq -d | wc -l) == 0)) || fail "a task ran twice in the second job"
((done2 + resumed == tasks)) ||
    fail "the second job ran $done2 and resumed $resumed: a journaled task ran again, or one was lost"
(($(sort -u "$ran1" "$ran2" | wc -l) == tasks)) || fail "not every task ran"
echo "slurm_resume.sh: passed"
