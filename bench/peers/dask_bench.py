"""Dask distributed peer for scripts/bench: Client.map of a no-op over N items on a LocalCluster
with W single-threaded worker processes, results gathered and checked.
    /usr/bin/python3 bench/peers/dask_bench.py --tasks N --workers W
Prints one line in tide-bench's format (median of --repeat runs).
"""
import argparse
import logging
import time

from dask.distributed import Client, LocalCluster


def noop(x):
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    runs = []
    with Client(cluster) as client:
        for r in range(a.repeat):
            start = time.perf_counter()
            # pure=False: every run really executes (no result cache across repeats).
            futures = client.map(noop, range(a.tasks), pure=False)
            out = client.gather(futures)
            runs.append(time.perf_counter() - start)
            assert out == list(range(a.tasks)), "wrong results"
    cluster.close()
    runs.sort()
    s = runs[len(runs) // 2]
    print(f"name=dask_map tasks={a.tasks} workers={a.workers} seconds={s:.6f} "
          f"rate={a.tasks / s:.0f} runs_fastest={runs[0]:.6f} runs_slowest={runs[-1]:.6f}",
          flush=True)


if __name__ == "__main__":
    main()
