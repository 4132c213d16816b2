#!/usr/bin/env bash
# Runs a UTS tree twice, by plain recursion (--sequential, no runtime) and on tide under mpirun
# with the given ranks, and passes if both count the same nodes, leaves and depth.
#   uts_matches_sequential.sh MPIRUN RANKS UTS_BINARY TREE_FLAGS...
set -euo pipefail
mpirun=$1 ranks=$2 uts=$3
shift 3
sequential=$("$uts" "$@" --sequential | grep '^nodes=')
parallel=$("$mpirun" -n "$ranks" "$uts" "$@" | grep '^nodes=')
echo "sequential: $sequential"
echo "tide on $ranks rank(s): $parallel"
[[ -n "$sequential" && "$sequential" == "$parallel" ]]
