#pragma once
// What a run did, as rank 0 counts it: driver::stats() while the run goes on, the summary table
// printed at the end, and the JSON of --tide-stats=FILE.

#include <cstdint>
#include <string>
#include <vector>

#include "tide/load.hpp"

namespace tide {

// One rank that ran tasks: a worker, or rank 0 while it ran them itself.
struct worker_stats {
    int rank = 0;
    std::string host;
    // "launcher" (mpirun/srun started it), "spawned", "satellite" (a Slurm job rank 0
    // submitted, --tide-satellites), or "rank 0"
    std::string origin;
    std::string state;           // "active", "parked", "retired", "lost", "ended"
    std::uint64_t tasks = 0;     // tasks from rank 0 it ran (the driver's, and children lent to it)
    std::uint64_t executed = 0;  // task frames it ran, nested children run in place included
    double busy_seconds = 0;     // time inside tasks
    double seconds_in_pool = 0;  // from joining (start or spawn) to leaving (or now)
    double parked_seconds = 0;   // of that, parked
    double busy_fraction = 0;    // busy_seconds / seconds_in_pool
};

struct run_stats {
    // Tasks the driver submitted, by outcome (nested tasks count in their workers' `executed`).
    std::uint64_t submitted = 0;
    std::uint64_t resumed = 0;  // answered from the journal (--tide-journal), not run
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;   // threw, wrong arguments, unknown name, lost too often, ...
    std::uint64_t retried = 0;  // queued again after their worker died (each time it happened)
    std::uint64_t outstanding = 0;
    // Task graphs: tasks sent ahead to wait on the worker that makes their inputs, those sent
    // back (an input had finished there and was no longer at hand), and inputs forwarded to
    // them from other workers through rank 0.
    std::uint64_t graph_sent_ahead = 0;
    std::uint64_t graph_returned = 0;
    std::uint64_t graph_forwarded = 0;
    // Results kept on the workers that made them (--tide-keep-results), and their bytes;
    // fetched to rank 0 (for get(), or a task that ran elsewhere), and their bytes; released
    // on their worker once nothing wanted them; made again after their worker was lost.
    std::uint64_t results_kept = 0, results_kept_bytes = 0;
    std::uint64_t results_fetched = 0, results_fetched_bytes = 0;
    std::uint64_t results_released = 0, results_remade = 0;
    double elapsed_seconds = 0;  // since the run started
    // From the first task submitted to the last one finished: the time the tasks took.
    double makespan_seconds = 0;
    double tasks_per_second = 0;  // finished (ok + failed) / makespan
    std::vector<worker_stats> workers;
    steal_counters stealing;
    scaling_counters scaling;
    // Bursts: work arriving while nothing was queued or running. From that submission to the
    // first task sent to a worker that joined (spawned or woken) during the burst, for the
    // bursts that brought one in.
    std::uint64_t bursts = 0;
    std::uint64_t bursts_grown = 0;
    double burst_to_new_worker_median_seconds = 0;
    double burst_to_new_worker_max_seconds = 0;
    // Satellites (--tide-satellites): submitted to Slurm; of those, joined the run, and failed
    // to (sbatch refused, or the job ended before its workers joined); the median wait in
    // Slurm's queue, and the median join once a satellite's job started.
    std::uint64_t satellites_submitted = 0, satellites_joined = 0, satellites_failed = 0;
    double satellite_wait_median_seconds = 0, satellite_join_median_seconds = 0;
    std::uint64_t workers_lost = 0;
    std::uint64_t batches_lost = 0;
    std::uint64_t protocol_errors = 0;
    // The journal, if the run has one: its file, results recorded in this run, its size.
    std::string journal_path;
    std::uint64_t journal_recorded = 0;
    std::uint64_t journal_bytes = 0;
};

// The summary table, lines ending in '\n'.
std::string to_table(const run_stats& s);
// The same as a JSON document (what --tide-stats=FILE writes).
std::string to_json(const run_stats& s);

}  // namespace tide
