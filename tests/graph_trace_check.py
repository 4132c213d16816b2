#!/usr/bin/env python3
"""graph_trace_check.py MPIRUN TIDE_TASKBENCH TRACE: a stencil graph of width 3 and 6 steps run
with --tide-trace; the trace must hold one arrow per edge of the graph ((steps - 1) x (3 x width
- 2)), each from the span of the task that made an input to the span of the task that took it,
and the taking task must not start before the input's task ended (beyond the clock mapping's
error)."""
import json
import subprocess
import sys

mpirun, bench, path = sys.argv[1:4]
width, steps = 3, 6
subprocess.run([mpirun, "-n", "3", bench, "--tide-quiet", "--pattern", "stencil_1d", "--width",
                str(width), "--steps", str(steps), "--iterations", "200000",
                f"--tide-trace={path}"], check=True)
events = json.load(open(path))
events = events["traceEvents"] if isinstance(events, dict) else events
spans = {e["args"]["id"]: e for e in events if e.get("ph") == "X" and e.get("cat") == "task"}
starts = {e["id"]: e for e in events if e.get("cat") == "graph" and e["ph"] == "s"}
finishes = {e["id"]: e for e in events if e.get("cat") == "graph" and e["ph"] == "f"}
failures = []
expected = (steps - 1) * (3 * width - 2)
if len(starts) != expected or set(starts) != set(finishes):
    failures.append(f"{len(starts)} arrows start, {len(finishes)} end; the graph has {expected}")
for i, s in starts.items():
    f = finishes.get(i)
    if f is None:
        continue
    a, b = s["args"]["from"], s["args"]["to"]
    if a not in spans or b not in spans:
        failures.append(f"arrow {i} joins tasks without spans: {a} -> {b}")
        continue
    made, took = spans[a], spans[b]
    if abs(s["ts"] - (made["ts"] + made["dur"])) > 0.01 or s["tid"] != made["tid"]:
        failures.append(f"arrow {i} does not leave from the end of task {a}")
    if f["ts"] != took["ts"] or f["tid"] != took["tid"]:
        failures.append(f"arrow {i} does not reach the start of task {b}")
    if took["ts"] < made["ts"] + made["dur"] - 2000:  # microseconds
        failures.append(f"task {b} started before its input {a} ended")
if failures:
    print("\n".join(failures[:20]))
    sys.exit(1)
print(f"graph trace ok: {len(starts)} arrows between {len(spans)} spans")
