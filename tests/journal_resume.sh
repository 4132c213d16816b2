#!/usr/bin/env bash
# journal_resume.sh DIR TASKS SLEEP_MS KILL_AT -- PROGRAM [ARGS...]: a campaign of TASKS tasks
# (tests/programs/journaled.cpp) with a journal, whose rank 0 (the process started) is killed
# with SIGKILL once KILL_AT tasks have run, then run again with the same journal. Passes when the
# second run has every result right, what ran in both runs covers every task, the second run
# ran exactly the tasks the journal did not answer (each once), and the journal answered some.
# Prints what the kill cost: the tasks that ran in both runs.
set -uo pipefail
dir=$1 tasks=$2 sleep_ms=$3 kill_at=$4
shift 5  # DIR TASKS SLEEP_MS KILL_AT --
rm -rf "$dir" && mkdir -p "$dir"
journal=$dir/journal
fail() { echo "journal_resume.sh: $*" >&2; exit 1; }

touch "$dir/ran-1"
# A 1 s heartbeat: once rank 0 is killed, its workers end within a second.
"$@" "$tasks" "$sleep_ms" "$dir/ran-1" --tide-journal="$journal" --tide-heartbeat=1 &
rank0=$!
for _ in $(seq 1200); do
    [ "$(wc -l <"$dir/ran-1")" -ge "$kill_at" ] && break
    kill -0 "$rank0" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$rank0" 2>/dev/null || fail "the first run ended before $kill_at tasks had run"
kill -9 "$rank0"
wait "$rank0"
ran1=$(sort -u "$dir/ran-1" | wc -l)
echo "first run: rank 0 killed after $ran1 task(s) had run; journal of $(stat -c %s "$journal") bytes"

# The default heartbeat here: a worker taken for lost on a loaded machine would run a task twice.
out=$("$@" "$tasks" "$sleep_ms" "$dir/ran-2" --tide-journal="$journal" 2>&1)
code=$?
echo "$out"
((code == 0)) || fail "the second run exited $code"
grep -q "^$tasks tasks: $tasks results right, 0 wrong, 0 failed" <<<"$out" ||
    fail "the second run did not get every result right"
resumed=$(sed -n 's/.*; resumed \([0-9]*\),.*/\1/p' <<<"$out")
touch "$dir/ran-2"
ran2=$(wc -l <"$dir/ran-2")
twice_in_run2=$(sort "$dir/ran-2" | uniq -d | wc -l)
covered=$(sort -u "$dir/ran-1" "$dir/ran-2" | wc -l)
both=$(comm -12 <(sort -u "$dir/ran-1") <(sort -u "$dir/ran-2") | wc -l)
echo "second run: $resumed answered by the journal, $ran2 ran; $both ran in both runs (done before the kill, not yet durable)"
((resumed > 0)) || fail "the journal answered nothing"
((twice_in_run2 == 0)) || fail "$twice_in_run2 task(s) ran twice in the second run"
((ran2 + resumed == tasks)) ||
    fail "the second run ran $ran2 and resumed $resumed: a journaled task ran again, or one was lost"
((covered == tasks)) || fail "only $covered of $tasks tasks ran in the two runs"
echo "journal_resume.sh: passed"
