"""Formats the result lines of scripts/bench as a table with ratios, and checks the targets.

Input: lines `name=<bench> tasks=N workers=W seconds=S rate=R k=v ...` (other lines ignored).
Ratios are computed per worker count against tide's no-op throughput and against the plain-MPI
floor (baseline_farm) measured in the same run. The lines of `latency --task-us` (wait_overhead,
one per task length, and idle_cpu) make a table of their own: what a wait adds to one task in
flight, next to the CPU the ranks use idle.
"""
import sys


def parse(path):
    rows = []
    for line in open(path):
        if not line.startswith("name="):
            continue
        kv = dict(item.split("=", 1) for item in line.split() if "=" in item)
        rows.append(kv)
    return rows


def label(r):
    name = r["name"]
    if name == "throughput":
        return f"tide {r.get('via', 'map')} (payload {r.get('payload', '0')} B)"
    if name == "latency":
        return "tide latency (submit + get)"
    if name == "granularity":
        return f"tide granularity ({r['task_us']} us tasks)"
    if name == "baseline_farm":
        return f"plain MPI farm (2 x {r.get('batch', '?')} in flight)"
    if name.startswith("mpi4py_chunksize_"):
        return f"mpi4py.futures map, chunksize {name.rsplit('_', 1)[1]}"
    if name == "dask_map":
        return "dask distributed Client.map"
    if name == "wake":
        return "tide burst onto parked workers"
    return name


WAITS = ("wait_overhead", "idle_cpu")


def wait_table(w, group, checks):
    """The table of one task in flight at a time, and the wait targets."""
    waits = [r for r in group if r["name"] == "wait_overhead"]
    idle = next((r for r in group if r["name"] == "idle_cpu"), None)
    if not waits and not idle:
        return
    print(f"\n{w} worker(s): one task in flight, what get() adds to it; medians of the tries")
    print(f"{'task us':>9} {'tries':>6} {'median us':>10} {'max us':>9} {'% of task':>10} "
          f"{'there us':>9} {'back us':>8} {'cold walk us':>13}")
    for r in waits:
        print(f"{r['task_us']:>9} {r['tries']:>6} {r['overhead_median_us']:>10} "
              f"{r['overhead_max_us']:>9} {r['overhead_pct']:>10} {r['there_median_us']:>9} "
              f"{r['back_median_us']:>8} {r['cold_walk_us']:>13}")
    if idle:
        print(f"idle CPU, % of a core: rank 0 {idle['rank0_idle_pct']}, idle worker "
              f"{idle['worker_idle_pct']}, rank 0 with all parked {idle['rank0_all_parked_pct']}, "
              f"parked worker {idle['worker_parked_pct']}")
    for r in waits:
        us, median = int(r["task_us"]), float(r["overhead_median_us"])
        checks.append((f"{w} worker(s), {us} us task: median wait overhead <= 50 us",
                       median <= 50, f"{median} us"))
        if us >= 1000:
            checks.append((f"{w} worker(s), {us} us task: overhead <= 2% of the task",
                           median <= 0.02 * us, f"{r['overhead_pct']}%"))


def main(path):
    rows = parse(path)
    by_workers = {}
    for r in rows:
        by_workers.setdefault(int(r["workers"]), []).append(r)
    checks = []
    for w in sorted(by_workers):
        group = [r for r in by_workers[w] if r["name"] not in WAITS]
        tide = next((r for r in group if r["name"] == "throughput" and r.get("payload") == "0"
                     and r.get("via", "map") == "map"), None)
        floor = next((r for r in group if r["name"] == "baseline_farm"), None)
        tide_rate = float(tide["rate"]) if tide else None
        floor_rate = float(floor["rate"]) if floor else None
        print(f"\n{w} worker(s) (mpirun -n {w + 1}); medians")
        print(f"{'benchmark':44} {'tasks':>9} {'seconds':>9} {'tasks/s':>13} "
              f"{'vs floor':>9} {'tide x':>9}  notes")
        for r in group:
            rate = float(r["rate"])
            vs_floor = f"{rate / floor_rate:.1%}" if floor_rate else "-"
            tide_x = (f"{tide_rate / rate:.1f}" if tide_rate and r is not tide
                      and not r["name"].startswith(("throughput", "latency", "granularity",
                                                    "baseline")) else "")
            notes = " ".join(f"{k}={v}" for k, v in r.items()
                             if k in ("us_per_task", "efficiency", "runs_fastest", "runs_slowest",
                                      "parked_cpu_pct", "active_idle_cpu_pct",
                                      "all_working_after_ms"))
            print(f"{label(r):44} {r['tasks']:>9} {float(r['seconds']):>9.4f} {rate:>13,.0f} "
                  f"{vs_floor:>9} {tide_x:>9}  {notes}")
        wait_table(w, by_workers[w], checks)
        if w != 1:
            continue
        # The targets of the dispatch issue, for one worker.
        if tide_rate:
            checks.append(("throughput >= 2,000,000 tasks/s", tide_rate >= 2e6, f"{tide_rate:,.0f}"))
        if tide_rate and floor_rate:
            checks.append(("throughput >= 10% of the plain-MPI floor", tide_rate >= 0.1 * floor_rate,
                           f"{tide_rate / floor_rate:.1%}"))
        m4 = [float(r["rate"]) for r in group if r["name"].startswith("mpi4py")]
        if tide_rate and m4:
            checks.append(("throughput >= 10x mpi4py.futures (best chunksize)",
                           tide_rate >= 10 * max(m4), f"{tide_rate / max(m4):.1f}x"))
        dk = [float(r["rate"]) for r in group if r["name"] == "dask_map"]
        if tide_rate and dk:
            checks.append(("throughput >= 1000x dask", tide_rate >= 1000 * dk[0],
                           f"{tide_rate / dk[0]:.0f}x"))
        lat = next((r for r in group if r["name"] == "latency"), None)
        if lat:
            checks.append(("latency <= 5 us per round trip", float(lat["us_per_task"]) <= 5,
                           f"{lat['us_per_task']} us"))
        g50 = next((r for r in group if r["name"] == "granularity" and r["task_us"] == "50"), None)
        if g50:
            checks.append(("50 us tasks at >= 90% efficiency", float(g50["efficiency"]) >= 0.9,
                           g50["efficiency"]))
    # The targets of the elasticity issue, from the parked-workers run.
    wake = next((r for r in rows if r["name"] == "wake"), None)
    if wake:
        checks.append(("a parked worker uses < 1% of a core", float(wake["parked_cpu_pct"]) < 1,
                       f"{wake['parked_cpu_pct']}%"))
        checks.append(("parked workers all working <= 50 ms after a burst",
                       float(wake["all_working_after_ms"]) <= 50,
                       f"{wake['all_working_after_ms']} ms"))
    if checks:
        print("\ntargets")
        for what, ok, value in checks:
            print(f"  {'met ' if ok else 'MISS'}  {what:52} {value}")


if __name__ == "__main__":
    main(sys.argv[1])
