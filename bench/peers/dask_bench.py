"""Dask distributed peer for scripts/bench: Client.map of a no-op over N items on a LocalCluster
with W single-threaded worker processes, results gathered and checked.
    /usr/bin/python3 bench/peers/dask_bench.py --tasks N --workers W
Prints one line in tide-bench's format (median of --repeat runs).
"""
import argparse
import logging
import os
import sys
import time

from dask.distributed import Client, LocalCluster

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from result_line import report  # noqa: E402


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
    report("dask_map", a.tasks, a.workers, runs)


if __name__ == "__main__":
    main()
