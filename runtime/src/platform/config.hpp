#pragma once
// Runtime settings from --tide-* flags and TIDE_* environment variables (a flag wins over its
// variable). Parsed before MPI starts, identically on every rank.

#include <chrono>
#include <string>
#include <vector>

#include "tide/scheduler/node_slots.hpp"

namespace tide::detail {

struct config {
    std::string log_level = "warn";
    // Tasks a worker holds at once: enough that it never waits a round trip between tasks.
    unsigned prefetch = 256;
    // Most tasks in one message, and the byte size past which a batch is closed early.
    unsigned batch_max = 256;
    std::size_t batch_bytes = std::size_t{1} << 20;
    // A result of at least this many bytes stays on the worker that made it (the driver's
    // tasks): tasks that take it run there without it crossing rank 0, which fetches it only
    // for get() or a task elsewhere. Ray inlines results below 100 KiB the same way. 0: never.
    std::size_t keep_results = 100 * 1024;
    // How long rank 0 waits for workers to acknowledge shutdown before aborting the job.
    std::chrono::milliseconds shutdown_timeout{30000};
    // How long a message that has started arriving may take to finish.
    std::chrono::milliseconds receive_timeout{60000};
    // Stack of the thread that runs tasks. A task waiting on a child runs other tasks on top of
    // itself, so nesting depth costs stack; only pages touched take memory.
    unsigned stack_mib = 512;
    // Elasticity: workers kept active (-1: every rank started), most workers (-1: as many as
    // the slots allow), the backlog per worker to aim for, how long a worker idles before it is
    // parked and a spawned one stays parked before it retires, the pause after a failed spawn.
    int min_workers = -1;
    int max_workers = -1;
    double target_backlog = 1.0;
    double idle_park = 2.0;
    double idle_retire = 30.0;
    double cooldown = 2.0;
    // A spawn not done by then is given up on (Open MPI's spawn can hang for ever).
    std::chrono::milliseconds spawn_timeout{10000};
    std::vector<std::string> spawn_info;  // KEY=VALUE entries for MPI_Comm_spawn's info
    int spawned_base = -1;  // set by rank 0 on the workers it spawns: the group's first rank
    // Nodes rank 0 starts groups of workers on, each group its own Open MPI job that joins rank
    // 0 (so a node's loss costs only its workers), and the command that reaches a node.
    std::vector<sched::node_slots> nodes;
    std::string node_agent;
    std::string join_port;  // set by rank 0 on such a group: the port to connect to
    // Satellites: Slurm jobs of workers that rank 0 submits when the backlog outlasts their
    // queue wait, and that join the run (at most `satellites` at once, `satellite_queued` of
    // them waiting in the queue, `satellite_nodes` nodes over all; 0: no limit); the sbatch
    // options each is submitted with; the seconds all of a satellite's workers idle before it
    // ends; the directory (seen by the satellites' nodes) where they meet rank 0.
    int satellites = 0;
    int satellite_queued = 1;
    int satellite_nodes = 0;
    std::string satellite_sbatch;
    double satellite_idle = 30;
    std::string satellite_dir;
    // Set by rank 0 on the workers it spawns where the launcher survives a process that ends
    // without MPI_Finalize: a worker not through MPI_Init by then ends itself (0: never).
    std::chrono::milliseconds spawned_deadline{0};
    // How long MPI_Init may take in a process rank 0 did not spawn (0: no limit). Open MPI's
    // start-up has hung here (a singleton's daemon); the process then ends rather than wait.
    std::chrono::milliseconds start_timeout{120000};
    // Where workers run: bind each to a core or a NUMA node of its host (or not), filling the
    // host compactly or scattered; print the map when it changes.
    std::string bind = "core";
    std::string placement = "compact";
    bool report_bindings = false;
    // A peer silent this long is lost: a worker for rank 0 (its tasks run elsewhere), rank 0
    // for a worker (it exits). A task lost with its worker more than max_retries times fails.
    std::chrono::milliseconds heartbeat{3000};
    int max_retries = 3;
    // Seconds the run may take from its start (a wall time limit): late in the run, workers
    // brought in start only tasks expected to finish. -1: the Slurm job's limit; 0: none.
    double walltime = -1;
    // Where rank 0 writes its exit code: mpirun --enable-recovery exits 0 whatever the ranks
    // return, so the launch scripts read the run's exit code from here.
    std::string exit_code_file;
    std::string timeline_path;  // --tide-timeline: where rank 0 writes the timeline (CSV/JSON)
    // Seeing the run: rank 0's status line every status_interval seconds (a progress line on
    // a terminal) and the summary at the end, unless quiet; the statistics as JSON and the
    // Chrome trace, written at the end when asked for.
    double status_interval = 5.0;
    bool quiet = false;
    std::string stats_path;
    std::string trace_path;
    // The result journal (rank 0 only): where it is, the salt that changes when the tasks'
    // code does, how often it is made durable, and what to do with one damaged in the middle
    // (keep the records that check) or written by another program or salt (take it over).
    std::string journal_path;
    std::string journal_salt;
    std::chrono::milliseconds journal_sync{1000};
    bool journal_salvage = false;
    bool journal_adopt = false;
    bool help = false;
    std::string help_text;
    std::vector<std::string> warnings;  // logged once the logger is set up (unknown TIDE_*)
};

// Removes the --tide-* arguments from argv (compacting it, updating argc) and returns the
// settings. Throws tide::config_error for unknown flags and bad values; unknown TIDE_*
// variables become warnings.
config parse_config(int& argc, char** argv);

}  // namespace tide::detail
