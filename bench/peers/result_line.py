"""The result line every benchmark prints (tide-bench's format), from the seconds of each run:
the median is reported, with the fastest and slowest runs."""


def report(name, tasks, workers, runs):
    runs = sorted(runs)
    s = runs[len(runs) // 2]
    print(f"name={name} tasks={tasks} workers={workers} seconds={s:.6f} rate={tasks / s:.0f} "
          f"runs_fastest={runs[0]:.6f} runs_slowest={runs[-1]:.6f}", flush=True)
