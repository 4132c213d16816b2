#!/usr/bin/env bash
# fake_slurm.sh COMMAND...: runs COMMAND with slurm-local's many-node cluster up on the nodes of
# scripts/fake-cluster (which must be up), and takes that cluster down afterwards, whatever
# COMMAND did; passes COMMAND's exit code through.
set -uo pipefail
s=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/slurm-local
trap '"$s" down --fake-cluster >/dev/null' EXIT
"$s" up --fake-cluster || exit 1
"$@"
code=$?
exit "$code"
