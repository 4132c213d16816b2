"""mpi4py.futures peer for scripts/bench: MPIPoolExecutor.map of a no-op over N items.

Run under mpirun with the pool taken from the launched ranks (rank 0 runs this script, the
others serve), the same layout as tide:
    mpirun -n 3 /usr/bin/python3 -m mpi4py.futures bench/peers/mpi4py_bench.py --tasks N --chunksize C
Prints one line in tide-bench's format (median of --repeat runs).
"""
import argparse
import os
import sys
import time

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from result_line import report  # noqa: E402


def noop(x):
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=100000)
    p.add_argument("--chunksize", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    workers = MPI.COMM_WORLD.Get_size() - 1
    runs = []
    with MPIPoolExecutor() as pool:
        for _ in range(a.repeat):
            start = time.perf_counter()
            out = list(pool.map(noop, range(a.tasks), chunksize=a.chunksize))
            runs.append(time.perf_counter() - start)
            assert out == list(range(a.tasks)), "wrong results"
    report(f"mpi4py_chunksize_{a.chunksize}", a.tasks, workers, runs)


if __name__ == "__main__":
    main()
