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

// Tasks per range, at least 1 (1: every task its own record, as a single submit). At most half
// of --tide-prefetch, so a worker holds the range it runs and the next one, never waiting for
// rank 0 in between.
std::size_t range_size(const range_inputs& in);

}  // namespace tide::sched
