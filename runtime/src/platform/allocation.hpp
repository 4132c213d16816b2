#pragma once
// What the batch system granted this job, read once on rank 0 at start-up: the Slurm
// allocation (job, nodes, tasks, CPUs), and when the job must end. The pool grows into the
// allocation and, late in the job, starts no work on new workers that could not finish.

#include <chrono>
#include <optional>
#include <string>

#include "platform/config.hpp"

namespace tide::detail {

struct allocation {
    std::string job_id;    // SLURM_JOB_ID; empty outside a Slurm job
    std::string nodes;     // SLURM_JOB_NODELIST
    int tasks = 0;         // SLURM_NTASKS: the slots of the allocation
    int cpus_on_node = 0;  // SLURM_CPUS_ON_NODE
    // When the job ends (its wall time limit), and where that came from: --tide-walltime,
    // SLURM_JOB_END_TIME or squeue. Without an end, `end_source` says why none is known.
    std::optional<std::chrono::steady_clock::time_point> ends_at;
    std::string end_source;

    bool inside_slurm() const { return !job_id.empty(); }
    // One line for the start-up log.
    std::string describe() const;
};

// Reads the allocation from the environment. The end comes from --tide-walltime if given (0:
// none), else from SLURM_JOB_END_TIME, else from asking squeue (bounded by a deadline).
allocation read_allocation(const config& cfg);

// Parses squeue's end time printed with SLURM_TIME_FORMAT=%s (seconds since the epoch); none
// for an unlimited job or anything unexpected.
std::optional<long long> parse_end_epoch(const std::string& text);

}  // namespace tide::detail
