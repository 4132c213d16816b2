#pragma once
// What rank 0 knows about the load, as returned by driver::load(): per worker and in total,
// estimated seconds of queued work (from per-task-name duration statistics and the status that
// workers piggyback on their traffic), and what work stealing has done so far.

#include <cstdint>
#include <string>

#include "tide/scheduler/load_estimator.hpp"

namespace tide {

struct steal_counters {
    std::uint64_t requests = 0;          // steal_request messages from idle workers
    std::uint64_t served_centrally = 0;  // hungry workers fed from rank 0's own queue
    std::uint64_t orders = 0;            // steal orders sent to victims
    std::uint64_t steals = 0;            // orders answered with at least one task
    std::uint64_t empty = 0;             // orders answered with nothing (victim ran dry)
    std::uint64_t tasks_moved = 0;       // tasks that changed worker through a steal
    double round_trip_median_us = 0;     // order sent to answer received, at rank 0
    double round_trip_max_us = 0;
};

struct scaling_counters {
    std::uint64_t parks = 0;  // workers parked (idle beyond --tide-min-workers)
    std::uint64_t wakes = 0;  // parked workers woken for work
};

struct load_snapshot : sched::load_snapshot {
    steal_counters stealing;
    scaling_counters scaling;
};

// One line for a program's output: "steals=… tasks_moved=… steal_rtt_median_us=…".
std::string to_string(const steal_counters& s);

}  // namespace tide
