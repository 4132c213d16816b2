#!/usr/bin/env bash
# node_fault.sh kill|cut NODE DELAY WITHIN -- COMMAND...: runs COMMAND (a tide run across the
# fake cluster) and, DELAY seconds after a tide worker first runs on NODE, kills every process
# there at once (kill: the node dies, its Open MPI daemon too) or takes its link down (cut: the
# node runs on, unreachable). After a cut, every process on NODE must have ended within WITHIN
# seconds (its workers notice rank 0's silence and end themselves); the link comes back up after.
# Passes COMMAND's exit code through; fails if no worker ever ran on NODE, or if COMMAND has not
# ended WITHIN seconds after the fault.
set -uo pipefail
fault=$1 node=$2 delay=$3 within=$4
shift 5  # FAULT NODE DELAY WITHIN --
cluster="$(dirname "$0")/../scripts/fake-cluster"
workers_on_node() {
    for pid in $("$cluster" pids "$node"); do
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--tide-join" && echo "$pid"
    done
}
"$@" &
cmd=$!
mended() { [ "$fault" != cut ] || "$cluster" mend "$node"; }
# A loaded machine may take seconds to start the workers there: wait for them first.
for _ in $(seq 600); do
    [ -n "$(workers_on_node)" ] && break
    kill -0 "$cmd" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$(workers_on_node)" ]; then
    echo "node_fault.sh: no tide worker ever ran on $node" >&2
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
