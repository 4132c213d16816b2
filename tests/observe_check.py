#!/usr/bin/python3
"""What a run shows of itself, checked against what the program itself counted.

  observe_check.py MPIRUN BURST FIB TIDE_PLOT WORKDIR

1. The elastic singleton (burst: two bursts, spawned workers parked and retired) with
   --tide-trace, --tide-timeline, --tide-stats and status lines every 0.5 s on a pipe:
   - the trace parses as JSON and has one span per task the program got a result for, each id
     once, on the track of a rank that the statistics say ran that many tasks;
   - its instant events match the scaling counts (spawned, parks, retirements), and every
     scaling decision of the timeline is in it, with the same reason;
   - the statistics count the tasks the program counted, by outcome;
   - the status lines come every 0.5 s (not sooner; not much later while tasks finish), and the
     summary table closes the run;
   - on a terminal (script(1) gives one), a single line is redrawn in place instead;
   - ranks started by mpirun are parked and woken: the trace has an event for each;
   - scripts/tide-plot draws a PNG from the trace and from the timeline.
2. fib with work stealing on 3 ranks, traced: every lent task's span names a parent that is a
   span of the trace, and has a flow arrow from its parent's rank.
"""

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

mpirun, burst, fib, plot, workdir = sys.argv[1:6]
work = Path(workdir)
work.mkdir(parents=True, exist_ok=True)
INTERVAL = 0.5


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    if p.returncode != 0:
        print(p.stdout, p.stderr, sep="\n", file=sys.stderr)
        check(False, f"{' '.join(cmd)} exited {p.returncode}")
    return p.stdout, p.stderr


def properly_nested(events):
    """Perfetto rejects overlapping slices: on each track, in whole nanoseconds as a viewer
    places them, every two spans nest or are disjoint."""
    tracks = {}
    for e in events:
        if e["ph"] == "X":
            start = round(e["ts"] * 1000)
            tracks.setdefault((e["pid"], e["tid"]), []).append((start, start + round(e["dur"] * 1000)))
    for spans in tracks.values():
        open_ends = []
        for start, end in sorted(spans, key=lambda x: (x[0], -x[1])):
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            if open_ends and end > open_ends[-1]:
                return False
            open_ends.append(end)
    return True


# ---- 1. the elastic singleton --------------------------------------------------------------
trace_path, timeline_path, stats_path = work / "burst.json", work / "burst.csv", work / "stats.json"
for f in (trace_path, timeline_path, stats_path):
    f.unlink(missing_ok=True)
out, err = run([burst, "100", "600", "10", "1.0", "--tide-max-workers=2", "--tide-idle-park=0.2",
                "--tide-idle-retire=0.3", f"--tide-trace={trace_path}",
                f"--tide-timeline={timeline_path}", f"--tide-stats={stats_path}",
                f"--tide-status-interval={INTERVAL}"])
m = re.search(r"tasks +(\d+), all results correct", out)
check(m, "the program checked its results")
tasks = int(m.group(1))
check(tasks == 700, f"700 tasks, the program counted {tasks}")

stats = json.loads(stats_path.read_text())
check(stats["tasks"] == {"submitted": tasks, "resumed": 0, "ok": tasks, "failed": 0, "retried": 0,
                         "outstanding": 0}, f"tasks by outcome: {stats['tasks']}")
check(stats["graph"] == {"sent_ahead": 0, "returned": 0, "forwarded": 0},
      f"no task graph: {stats['graph']}")
check(all(v == 0 for v in stats["kept_results"].values()),
      f"small results are not kept: {stats['kept_results']}")
check(stats["journal"] == {"path": "", "recorded": 0, "bytes": 0},
      f"no journal: {stats['journal']}")
per_rank = {w["rank"]: w["tasks"] for w in stats["workers"]}
check(sum(per_rank.values()) == tasks, f"per-worker tasks add up: {per_rank}")
check(stats["bursts"]["count"] == 2, f"two bursts: {stats['bursts']}")
check(stats["bursts"]["grown"] >= 1 and stats["bursts"]["to_new_worker_median_seconds"] > 0,
      f"a burst brought a worker in: {stats['bursts']}")
# Open MPI's spawn hangs for real now and then: rank 0 says so, gives up and goes on.
hung = len(re.findall(r"MPI_Comm_spawn did not return within", err))
check(stats["scaling"]["spawns_hung"] == stats["scaling"]["spawn_failures"] == hung,
      f"every failed spawn is a real hang that rank 0 reported ({hung}): {stats['scaling']}")
check(stats["scaling"]["spawned"] >= (2 if hung == 0 else 1), f"workers spawned: {stats['scaling']}")
for w in stats["workers"]:
    check(0 <= w["busy_fraction"] <= 1.0 and w["busy_seconds"] > 0, f"worker stats {w}")

doc = json.loads(trace_path.read_text())
events = doc["traceEvents"]
spans = [e for e in events if e["ph"] == "X"]
check(len(spans) == tasks, f"one span per task: {len(spans)} spans for {tasks} tasks")
ids = Counter(s["args"]["id"] for s in spans)
check(len(ids) == tasks, "each task's id once")
check(all(s["name"] == "work" and s["dur"] > 0 and s["ts"] >= 0 for s in spans),
      "spans are named, positive, after the start")
check(properly_nested(events), "spans on each track nest or follow each other")
by_track = Counter(s["tid"] for s in spans)
check(dict(by_track) == per_rank, f"spans per rank {dict(by_track)} match the statistics {per_rank}")
labels = {e["tid"]: e["args"]["name"] for e in events
          if e["ph"] == "M" and e["name"] == "thread_name"}
check(all(rank in labels for rank in by_track), f"every track is named: {labels}")

instants = Counter(e["name"] for e in events if e["ph"] == "i" and e["pid"] == 1)
check(instants["spawned"] == stats["scaling"]["spawned"], f"spawned events {instants}")
check(instants["park"] == stats["scaling"]["parks"], f"park events {instants}")
check(instants["retire"] == stats["scaling"]["retired"], f"retire events {instants}")
decisions = [e["args"]["reason"] for e in events if e["ph"] == "i" and e.get("cat") == "decision"]
timeline_events = [r["event"] for r in csv.DictReader(timeline_path.open()) if r["event"]]
check(timeline_events and decisions == timeline_events,
      f"the trace's decisions {decisions} are the timeline's {timeline_events}")
# What the decisions say was done adds up to what the statistics counted.
done_by = {k: sum(int(x) for d in decisions for x in re.findall(rf"=> .*\b{k} (\d+)", d))
           for k in ("spawn", "park")}
# (The workers of a spawn that hung were decided on but never came.)
check((done_by["spawn"] == stats["scaling"]["spawned"] if hung == 0
       else done_by["spawn"] > stats["scaling"]["spawned"])
      and done_by["park"] == stats["scaling"]["parks"],
      f"decisions carried out {done_by} against {stats['scaling']}")
spawn_requests = [e for e in events if e["ph"] == "i" and e["pid"] == 0 and e["name"] == "spawn"]
check(len(spawn_requests) == len([d for d in decisions if re.search(r"=> .*\bspawn [1-9]", d)]),
      "a spawn event on the pool's track for each decision that spawned")
counters = Counter(e["name"] for e in events if e["ph"] == "C")
check(counters["workers"] > 0 and counters["workers"] == counters["queued tasks"]
      == counters["backlog seconds"], f"counter tracks {counters}")

status = [float(x) for x in re.findall(r"^\[tide ([0-9.]+) s\] tasks", err, re.M)]
check(len(status) >= 6, f"status lines over a run of several seconds: {status}")
done = [int(x) for x in re.findall(r"^\[tide [0-9.]+ s\] tasks (\d+)/", err, re.M)]
gaps = [b - a for a, b in zip(status, status[1:])]
# Printed to 0.1 s: a gap of the interval reads 0.4 at the least.
check(min(gaps) >= INTERVAL - 0.1 - 1e-9, f"no status line sooner than the interval: {gaps}")
busy_gaps = sorted(g for g, d0, d1 in zip(gaps, done, done[1:]) if d1 > d0)
check(busy_gaps and busy_gaps[len(busy_gaps) // 2] <= INTERVAL + 0.25,
      f"while tasks finish, a line about every interval: {busy_gaps}")
check(re.search(r"^\[tide summary\] 700 task\(s\) submitted: 700 ok, 0 failed", err, re.M),
      "the summary table")
check("\r" not in err, "no progress line redrawn in place on a pipe")

for source in (trace_path, timeline_path):
    png = work / (source.stem + source.suffix.replace(".", "-") + ".png")
    png.unlink(missing_ok=True)
    run([plot, str(source), "-o", str(png)])
    data = png.read_bytes()
    check(data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000, f"{png} is a PNG")

# ---- 1b. on a terminal (a pseudo-terminal from script(1)): one line redrawn in place ----------
term = subprocess.run(["script", "-qec", f"{burst} 20 40 5 0.5 --tide-max-workers=1", "/dev/null"],
                      capture_output=True, timeout=120)  # bytes: text mode would eat the \r
check(term.returncode == 0, f"the run on a terminal exited {term.returncode}: {term.stdout}")
term.stdout = term.stdout.decode(errors="replace")
check(re.search(r"\r\x1b\[K\[tide [0-9.]+ s\] tasks", term.stdout), "a line redrawn in place")
check(not re.search(r"^\[tide [0-9.]+ s\] tasks[^\r]*\r?\n", term.stdout, re.M),
      "no status lines on a terminal")
check("\r\x1b[K[tide summary] 60 task(s) submitted" in term.stdout,
      "the line cleared before the summary")

# ---- 1c. ranks started by mpirun: parked between bursts and woken for the next -------------
wake_trace, wake_stats = work / "wake.json", work / "wake-stats.json"
for f in (wake_trace, wake_stats):
    f.unlink(missing_ok=True)
out, err = run([mpirun, "-n", "3", burst, "100", "300", "3", "1.0", "--tide-min-workers=0",
                "--tide-idle-park=0.2", f"--tide-trace={wake_trace}", f"--tide-stats={wake_stats}",
                "--tide-quiet"])
check(re.search(r"tasks +400, all results correct", out), "the mpirun burst checked its results")
wstats = json.loads(wake_stats.read_text())
wevents = json.loads(wake_trace.read_text())["traceEvents"]
winstants = Counter(e["name"] for e in wevents if e["ph"] == "i" and e["pid"] == 1)
check(wstats["scaling"]["wakes"] >= 1 and winstants["wake"] == wstats["scaling"]["wakes"],
      f"wake events {winstants} against {wstats['scaling']}")
check(winstants["park"] == wstats["scaling"]["parks"], f"park events {winstants}")
check(sum(1 for e in wevents if e["ph"] == "X") == 400, "one span per task on started ranks")
check(all(w["origin"] == "launcher" for w in wstats["workers"]), f"{wstats['workers']}")
check(sum(w["parked_seconds"] for w in wstats["workers"]) > 0, "parked time is counted")
check(not re.search(r"^\[tide", err, re.M), "--tide-quiet prints no status line or summary")

# ---- 2. nested tasks lent by stealing -------------------------------------------------------
fib_trace = work / "fib.json"
fib_trace.unlink(missing_ok=True)
run([mpirun, "-n", "3", fib, "30", "16", f"--tide-trace={fib_trace}", "--tide-quiet"])
events = json.loads(fib_trace.read_text())["traceEvents"]
spans = [e for e in events if e["ph"] == "X"]
span_ids = {s["args"]["id"]: s for s in spans}
check(properly_nested(events), "fib's spans nest or follow each other on every track")
lent = [s for s in spans if "lent_by_rank" in s["args"]]
check(lent, "some tasks were lent by a steal")
for s in lent:
    parent = s["args"]["parent"]
    check(parent in span_ids, f"the parent {parent} of lent task {s['args']['id']} has a span")
starts = {e["id"]: e for e in events if e["ph"] == "s"}
ends = {e["args"]["task"]: e for e in events if e["ph"] == "f"}
for s in lent:
    end = ends.get(s["args"]["id"])
    start = starts.get(end["id"]) if end else None
    check(end is not None and end["tid"] == s["tid"] and start is not None
          and start["tid"] == s["args"]["lent_by_rank"],
          f"a flow from the lending rank to lent task {s['args']['id']}")
print(f"ok: {tasks} tasks, {len(status)} status lines (gaps {min(gaps):.1f}..{max(gaps):.1f} s), "
      f"{sum(instants.values())} rank events, {len(decisions)} decisions; fib: {len(lent)} lent "
      f"of {len(spans)} spans")
