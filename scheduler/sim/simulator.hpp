#pragma once
// tide-sim: a discrete-event simulation of a tide run on a virtual clock, for pools far larger
// than this machine (10 to 10,000 workers). It drives tide's own scheduling code, unchanged:
// sched::range_size cuts the bulk submission, sched::plan_dispatch (or sched::fill_order, its
// incremental twin) shares it out, sched::load_estimator and sched::pick_victim broker steals,
// sched::scaling_policy grows the pool. What it models instead of running: the tasks (service
// times), the messages (latency and bandwidth), what rank 0 and each worker spend per message,
// record and task (calibrated from tide-bench, see scripts/bench-sim), spawns that take time
// or hang, and workers that die. With `per_leader` it models the per-node sub-scheduler of the
// design (README, "Scaling past one rank 0"): a leader per node between rank 0 and its workers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tide::sim {

enum class service_kind { constant, exponential, lognormal, tree };

struct service_model {
    service_kind kind = service_kind::constant;
    double mean = 1e-3;  // seconds per task (a tree's: per node)
    double sigma = 1.0;  // lognormal: of the logarithm
    // A tree (UTS's binomial trees): the root has `root_children` children, every other node
    // `children` children with probability q, none otherwise (q * children < 1: finite).
    std::size_t root_children = 2000;
    std::size_t children = 8;
    double q = 0.124;
};

// What things cost. The defaults are tide on the development machine (scripts/bench-sim
// measures them again): a message on one host, rank 0's handling of a message, of a record
// (a task, or a range of a bulk submission) and of each task in a range, and a worker's own
// cost per task (decoding, encoding, timing).
struct cost_model {
    double latency = 5e-6;
    double bandwidth = 2e9;  // bytes per second
    double rank0_per_message = 1.5e-6;
    double rank0_per_record = 0.35e-6;
    double rank0_per_task = 0.02e-6;
    // plan_dispatch looks at every worker on each dispatch: per worker looked at; fill_order
    // takes a step of a heap per record placed (times log2 of the workers).
    double rank0_per_worker_scan = 2e-9;
    double rank0_per_heap_step = 20e-9;
    double worker_per_task = 0.05e-6;
    std::size_t task_bytes = 24;    // a task's arguments and framing
    std::size_t result_bytes = 16;  // a result and its framing
};

struct sim_config {
    std::size_t workers = 1;      // at the start
    std::size_t max_workers = 0;  // the elastic policy may spawn up to this many (0: no spawns)
    std::size_t tasks = 1000;     // one bulk map (a tree makes its own)
    service_model service;
    cost_model cost;
    std::size_t prefetch = 256;    // --tide-prefetch
    std::size_t batch_max = 256;   // --tide-batch: results a worker sends at most in one message
    bool ranges = true;            // bulk ranges (sched::range_size), or a record per task
    bool durations_known = false;  // as in a run's later maps: ranges sized by the mean
    bool incremental_dispatch = false;  // sched::fill_order rather than plan_dispatch's scan
    std::size_t per_leader = 0;         // workers per node leader (0: every worker on rank 0)
    double spawn_seconds = 1.0;         // from a spawn decision to the worker's first task
    double spawn_hang = 0.0;            // probability that a spawn never returns
    double spawn_timeout = 10.0;        // when rank 0 gives up on one
    std::vector<double> deaths;         // when a worker dies (the one with most in hand)
    double heartbeat = 1.0;             // until rank 0 notices a death
    std::uint64_t seed = 1;
};

struct sim_result {
    double makespan = 0;
    double rank0_busy = 0;     // seconds rank 0 spent on messages and dispatch
    double idle_fraction = 0;  // of the workers' time in the pool, none of it in a task
    std::uint64_t tasks_done = 0, tasks_rerun = 0;
    std::uint64_t rank0_messages = 0;  // taken in and sent by rank 0
    std::uint64_t records = 0;         // records rank 0 made (tasks, ranges)
    std::uint64_t steals = 0, steal_orders = 0;
    std::uint64_t spawns = 0, spawns_hung = 0, deaths = 0;
    std::size_t peak_workers = 0;
    std::uint64_t events = 0;
    double host_seconds = 0;  // what the simulation itself took on this machine
};

sim_result simulate(const sim_config& config);

// "key=value ..." of a result, for scripts.
std::string to_line(const sim_result& r);

}  // namespace tide::sim
