#!/usr/bin/python3
"""A worker killed mid-run, seen in the trace and the statistics.

  loss_trace_check.py KILL_RANK MPIRUN BURST WORKDIR

Runs `burst` on 3 ranks under `mpirun --enable-recovery`, kills a worker 1.5 s in, and checks:
- the program got every result right, and the statistics say 200 ok, one worker lost, tasks
  retried;
- the trace has a `lost` event on the killed rank's track, and a decision row naming it;
- every task has exactly one span whose result came back (not marked `result_lost`): a task
  the dead worker held may have a second span there, marked, and only there.
"""

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

kill_rank, mpirun, burst, workdir = sys.argv[1:5]
work = Path(workdir)
work.mkdir(parents=True, exist_ok=True)
trace_path, stats_path = work / "loss-trace.json", work / "loss-stats.json"
for f in (trace_path, stats_path):
    f.unlink(missing_ok=True)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


p = subprocess.run([kill_rank, "1.5", "worker", "60", "--", mpirun, "--enable-recovery", "-n", "3",
                    burst, "100", "100", "30", "0.5", "--tide-heartbeat=1", "--tide-quiet",
                    f"--tide-trace={trace_path}", f"--tide-stats={stats_path}"],
                   capture_output=True, text=True, timeout=120)
check(p.returncode == 0, f"the run exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
check(re.search(r"tasks +200, all results correct", p.stdout), "the program checked its results")

stats = json.loads(stats_path.read_text())
check(stats["tasks"]["ok"] == 200 and stats["tasks"]["failed"] == 0,
      f"tasks by outcome {stats['tasks']}")
check(stats["workers_lost"] == 1 and stats["tasks"]["retried"] >= 1,
      f"one worker lost, tasks retried: {stats['workers_lost']}, {stats['tasks']}")
check(sum(w["tasks"] for w in stats["workers"]) == 200, "results counted once each")
lost_ranks = [w["rank"] for w in stats["workers"] if w["state"] == "lost"]
check(len(lost_ranks) == 1, f"one worker in state lost: {stats['workers']}")
dead = lost_ranks[0]

events = json.loads(trace_path.read_text())["traceEvents"]
lost = [e for e in events if e["ph"] == "i" and e["name"] == "lost"]
check(len(lost) == 1 and lost[0]["tid"] == dead and "silent" in lost[0]["args"]["detail"],
      f"a lost event on rank {dead}'s track: {lost}")
check(any(e["ph"] == "i" and e.get("cat") == "decision" and f"worker {dead} lost" in
          e["args"]["reason"] for e in events), "a decision row names the lost worker")
spans = [e for e in events if e["ph"] == "X"]
delivered = Counter(s["args"]["id"] for s in spans if not s["args"].get("result_lost"))
in_vain = [s for s in spans if s["args"].get("result_lost")]
check(len(delivered) == 200 and set(delivered.values()) == {1},
      f"one delivered span per task: {len(delivered)} ids, counts {Counter(delivered.values())}")
check(all(s["tid"] == dead for s in in_vain), "only the dead rank's runs are marked")
print(f"ok: rank {dead} lost, {stats['tasks']['retried']} task(s) retried, "
      f"{len(in_vain)} span(s) of runs whose result died with it")
