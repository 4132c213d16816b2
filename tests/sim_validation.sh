#!/usr/bin/env bash
# sim_validation.sh MPIRUN TIDE_BENCH TIDE_SIM: tide-sim's makespan against real runs of tasks
# spinning 200 us and 1 ms (tide-bench granularity, median of 3) on 1 and 2 workers: within 10%
# each, the bound. Shorter tasks are compared by scripts/bench-sim; here the machine
# running other tests beside this one would be measured as much as tide (the test runs alone,
# and long tasks keep the comparison about the model's parts that time on a loaded machine
# does not change: the tasks' own length, dispatch, the pipeline's start and end).
set -euo pipefail
mpirun=$1 bench=$2 sim=$3
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
status=0
for workers in 1 2; do
    for us in 200 1000; do
        real=$($mpirun -n $((workers + 1)) "$bench" --tide-quiet granularity --task-us "$us" \
            --repeat 3)
        tasks=$(echo "$real" | field tasks)
        real_s=$(echo "$real" | field seconds)
        sim_s=$("$sim" --workers "$workers" --tasks "$tasks" --mean "${us}e-6" --known | field makespan)
        verdict=$(python3 -c "r, s = $real_s, $sim_s; print('ok' if abs(s / r - 1) <= 0.10 else 'FAILED')")
        echo "workers=$workers task_us=$us tasks=$tasks real=$real_s sim=$sim_s: $verdict"
        [ "$verdict" = ok ] || status=1
    done
done
exit "$status"
