#!/usr/bin/env bash
# satellite_states.sh OUTPUT: after a run with --tide-satellites, how many satellite jobs are
# still in Slurm's queue (pending, running, completing; waiting up to 10 s for them to leave),
# and the state Slurm gives each satellite job the run's output names ("satellite N submitted as
# Slurm job J"), a line each, and tide's own lines from the satellites' output. Satellite jobs
# still queued are then cancelled (a failing test leaves no job behind for the next), and the
# run directory removed.
set -uo pipefail
out=$1
left=0
for _ in $(seq 20); do
    left=$(squeue --noheader --states=PD,R,CG,CF --format='%i %j' | grep -c ' tide-satellite-')
    [ "$left" -eq 0 ] && break
    sleep 0.5
done
echo "satellite jobs left in the queue: $left"
sed -n 's/.*submitted as Slurm job \([0-9]*\).*/\1/p' "$out" | while read -r job; do
    state=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    echo "satellite job $job ${state:-unknown}"
done
dir=$(sed -n 's/.*meeting rank 0 in \(.*\)$/\1/p' "$out" | head -1)
if [ -n "$dir" ] && [ -d "$dir" ]; then
    grep -h '^\[[0-9:.]*\] \[tide' "$dir"/satellite-*.out 2>/dev/null | sed 's/^/satellite output: /'
    rm -rf "$dir"
fi
squeue --noheader --format='%i %j' | awk '$2 ~ /^tide-satellite-/ {print $1}' | xargs -r scancel
