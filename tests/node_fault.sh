#!/usr/bin/env bash
# node_fault.sh kill|cut NODE DELAY WITHIN -- COMMAND...: runs COMMAND (a tide run across the
# fake cluster, with --tide-report-bindings) and, DELAY seconds after a tide worker on NODE has
# joined the run (rank 0 prints where it is bound: "[tide bindings] rank R on NODE"), kills
# every process there at once (kill: the node dies, its Open MPI daemon too) or takes its link
# down (cut: the node runs on, unreachable). (Waiting for a worker process to exist is not
# enough: on a loaded machine its group may take seconds more to join, and a fault before that
# is a failed start, not a lost worker.) After a cut, every process on NODE must have ended within WITHIN
# seconds (its workers notice rank 0's silence and end themselves); the link comes back up after.
# Passes COMMAND's exit code through; fails if no worker ever ran on NODE, or if COMMAND has not
# ended WITHIN seconds after the fault.
set -uo pipefail
fault=$1 node=$2 delay=$3 within=$4
shift 5  # FAULT NODE DELAY WITHIN --
cluster="$(dirname "$0")/../scripts/fake-cluster"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" > >(tee "$log") 2>&1 &
cmd=$!
mended() { [ "$fault" != cut ] || "$cluster" mend "$node"; }
joined() { grep -q "^\[tide bindings\] rank [1-9][0-9]* on $node:" "$log"; }
# A loaded machine may take seconds to start the workers there: wait for them first.
for _ in $(seq 600); do
    joined && break
    kill -0 "$cmd" 2>/dev/null || break
    sleep 0.1
done
if ! joined; then
    echo "node_fault.sh: no tide worker on $node ever joined the run" >&2
    wait "$cmd"
    exit 1
fi
sleep "$delay"
echo "node_fault.sh: $fault $node" >&2
"$cluster" "$fault" "$node"
if [ "$fault" = cut ]; then
    for ((t = 0; t < within * 10; ++t)); do
        [ -z "$("$cluster" pids "$node")" ] && break
        sleep 0.1
    done
    left=$("$cluster" pids "$node")
    if [ -n "$left" ]; then
        echo "node_fault.sh: processes still running on the cut-off $node after ${within} s:" >&2
        for pid in $left; do ps -o pid,etime,cmd -p "$pid" >&2; done
        mended
        wait "$cmd"
        exit 1
    fi
    echo "node_fault.sh: every process on the cut-off $node has ended" >&2
fi
for ((t = 0; t < within * 10; ++t)); do
    kill -0 "$cmd" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$cmd" 2>/dev/null; then
    echo "node_fault.sh: the run did not end within ${within} s of the $fault" >&2
    kill "$cmd"
    mended
    wait "$cmd"
    exit 1
fi
mended
wait "$cmd"
