#pragma once
// How many tasks of a bulk submission (driver::map, driver::submit_all) travel together as one
// range: one record on rank 0, one entry in a task batch, one result. Large ranges take rank
// 0's cost per task away; small ones keep the load balanced (stealing and the central queue
// move whole ranges, and the last range of a map runs alone) and lose little when a worker dies
// (a lost range runs again). Pure arithmetic, tested in tests/unit/bulk_ranges_test.cpp.

#include <cstddef>
#include <optional>

namespace tide::sched {

struct range_inputs {
    std::size_t tasks = 0;     // in the submission
    std::size_t workers = 1;   // the most workers the run may have (started or to be spawned)
    std::size_t prefetch = 1;  // tasks a worker may hold at once (--tide-prefetch)
    // The function's mean duration, once the load estimator has seen it run.
    std::optional<double> mean_seconds;
};

// Every worker the run may have gets at least this many ranges of a large submission, so the
// last ones even out (the tail is then at most 1/16 of a worker's share).
inline constexpr std::size_t ranges_per_worker = 16;
// A range of tasks of known duration lasts about this long: rank 0 spends a few microseconds
// on a range, and a steal or a loss moves this much work at most.
inline constexpr double range_seconds = 2e-3;
// What rank 0 spends on a range, sending it and taking its results in (about 2 us measured
// with tide-bench, per-task submit); with many workers a range lasts at least
// `rank0_headroom` times that per worker, so that rank 0 stays a quarter busy at most: at
// 10,000 workers, 2 ms ranges would ask rank 0 for 5 million ranges a second (tide-sim found
// it: the run took 19 times as long).
inline constexpr double rank0_range_seconds = 2e-6;
inline constexpr double rank0_headroom = 4;
// The most tasks in one range (a no-op's 2 ms would be 20,000): beyond this, rank 0's cost per
// task hardly falls, and a range's arguments stay within a message of modest size.
inline constexpr std::size_t max_range = 8192;

// Tasks per range, at least 1 (1: every task its own record, as a single submit). Of tasks of
// unknown duration, at most half of --tide-prefetch: a worker holds the range it runs and the
// next one, and a range's results come back no later than its tasks' would one by one in a
// full prefetch. Of tasks of known duration, about range_seconds of work (a worker may then
// hold two ranges beyond the prefetch: see hold_for).
std::size_t range_size(const range_inputs& in);

// The tasks a worker may hold when the next record queued holds `next_tasks`: the prefetch, or
// two such ranges if more, so that a worker always has the next range while it runs one.
inline std::size_t hold_for(std::size_t prefetch, std::size_t next_tasks) {
    return prefetch > 2 * next_tasks ? prefetch : 2 * next_tasks;
}

}  // namespace tide::sched
