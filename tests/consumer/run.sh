#!/usr/bin/env bash
# Installs the built tide into a scratch prefix, builds tests/consumer against it with
# find_package(tide), and runs the result on two ranks.
set -euo pipefail
build_dir=$1 source_dir=$2 mpiexec=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j 2 >/dev/null
"$mpiexec" -n 2 "$work/build/consumer"
