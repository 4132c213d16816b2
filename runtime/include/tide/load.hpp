#pragma once
// What rank 0 knows about the load, as returned by driver::load(): per worker and in total,
// estimated seconds of queued work (from per-task-name duration statistics and the status that
// workers piggyback on their traffic), and what work stealing has done so far.

#include <cstdint>
#include <string>
#include <vector>

namespace tide {

struct steal_counters {
    std::uint64_t requests = 0;          // steal_request messages from idle workers
    std::uint64_t served_centrally = 0;  // hungry workers fed from rank 0's own queue
    std::uint64_t orders = 0;            // steal orders sent to victims
    std::uint64_t steals = 0;            // orders answered with at least one task
    std::uint64_t same_host = 0;         // of those, thief and victim on the same host
    std::uint64_t cross_host = 0;        // and on different hosts (across the network)
    std::uint64_t empty = 0;             // orders answered with nothing (victim ran dry)
    std::uint64_t tasks_moved = 0;       // tasks that changed worker through a steal
    double round_trip_median_us = 0;     // order sent to answer received, at rank 0
    double round_trip_max_us = 0;
};

struct scaling_counters {
    std::uint64_t parks = 0;           // workers parked (idle beyond --tide-min-workers)
    std::uint64_t wakes = 0;           // parked workers woken for work
    std::uint64_t spawned = 0;         // workers started with MPI_Comm_spawn
    std::uint64_t spawn_failures = 0;  // spawns that failed or were given up on
    std::uint64_t spawns_hung = 0;     // of those, spawns that had not returned by the deadline
    std::uint64_t retired = 0;         // spawned workers retired after a long park
    double spawn_median_seconds = 0;   // how long a spawn takes (median of those done)
};

// The pool right now. Workers that retired or never started are in none of these counts.
struct pool_counts {
    std::size_t active = 0;    // working or looking for work
    std::size_t parked = 0;    // idle at a slow poll until woken
    std::size_t starting = 0;  // being spawned
};

// One worker, as the scheduler estimates it. workers[i] is MPI rank i + 1.
struct worker_estimate {
    std::uint32_t in_hand = 0;   // tasks rank 0 sent it that have not come back
    std::uint32_t queued = 0;    // nested tasks in its own deque (as last reported)
    double busy_fraction = 0;    // recent share of time spent running tasks
    double task_seconds = 0;     // recent mean duration of the tasks it ran
    double backlog_seconds = 0;  // (in_hand + queued) * task_seconds
    bool hungry = false;         // asked for work, not yet served
    bool parked = false;         // idling at a slow poll until woken
};

struct load_snapshot {
    std::vector<worker_estimate> workers;  // worker i is rank i + 1
    std::size_t central_queued = 0;        // tasks in rank 0's queue
    double central_backlog_seconds = 0;
    double total_backlog_seconds = 0;  // central plus every worker's
    steal_counters stealing;
    scaling_counters scaling;
    pool_counts pool;
    // Task batches a worker never received (its requests for work kept showing it); their
    // tasks were queued again. Anything but 0 is a fault worth reporting.
    std::uint64_t batches_lost = 0;
    // Workers that died (fell silent past --tide-heartbeat), and the tasks they held that were
    // queued again to run elsewhere.
    std::uint64_t workers_lost = 0;
    std::uint64_t tasks_rerun = 0;
};

// One line for a program's output: "steals=… tasks_moved=… steal_rtt_median_us=…".
std::string to_string(const steal_counters& s);

}  // namespace tide
