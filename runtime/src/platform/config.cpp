#include "platform/config.hpp"

#include <CLI/CLI.hpp>

#include <cstring>
#include <set>
#include <stdexcept>
#include <string_view>

#include "platform/sbatch_options.hpp"
#include "tide/error.hpp"

extern char** environ;

namespace tide::detail {

namespace {

constexpr std::string_view flag_prefix = "--tide-";

// Values converted once parsed: durations given in seconds, the node list.
struct raw_values {
    double shutdown = 30, receive = 60, spawn = 10, heartbeat = 3, spawned_deadline = 0,
           journal_sync = 1, start = 120;
    std::string nodes;  // parsed once checked
};

void add_options(CLI::App& app, config& c, raw_values& s) {
    app.add_option("--tide-log-level", c.log_level, "Log level of the runtime")
        ->envname("TIDE_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_option("--tide-prefetch", c.prefetch, "Tasks each worker holds at once")
        ->envname("TIDE_PREFETCH")
        ->check(CLI::Range(1u, 1u << 20));
    app.add_option("--tide-batch", c.batch_max, "Most tasks in one message")
        ->envname("TIDE_BATCH")
        ->check(CLI::Range(1u, 1u << 20));
    app.add_option("--tide-keep-results", c.keep_results,
                   "Bytes from which a task's result stays on the worker that made it, for the "
                   "tasks that take it there, until get() or a task elsewhere fetches it (0: "
                   "every result goes to rank 0; no result is kept with --tide-journal)")
        ->envname("TIDE_KEEP_RESULTS")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 40));
    app.add_option("--tide-shutdown-timeout", s.shutdown,
                   "Seconds to wait for workers at shutdown before aborting the job")
        ->envname("TIDE_SHUTDOWN_TIMEOUT")
        ->check(CLI::Range(0.1, 86400.0));
    app.add_option("--tide-receive-timeout", s.receive,
                   "Seconds a message may take to arrive once it has started")
        ->envname("TIDE_RECEIVE_TIMEOUT")
        ->check(CLI::Range(0.1, 86400.0));
    app.add_option("--tide-min-workers", c.min_workers,
                   "Workers kept active; ranks beyond it are parked when idle (default: all)")
        ->envname("TIDE_MIN_WORKERS")
        ->check(CLI::Range(0, 1 << 20));
    app.add_option("--tide-max-workers", c.max_workers,
                   "Most workers; rank 0 spawns up to it as work grows (default: the slots "
                   "mpirun or Slurm allow beside rank 0, or the cores)")
        ->envname("TIDE_MAX_WORKERS")
        ->check(CLI::Range(0, 1 << 20));
    app.add_option("--tide-target-backlog", c.target_backlog,
                   "Seconds of queued work per worker that the pool aims for")
        ->envname("TIDE_TARGET_BACKLOG")
        ->check(CLI::Range(0.001, 86400.0));
    app.add_option("--tide-idle-park", c.idle_park, "Seconds a worker is idle before it is parked")
        ->envname("TIDE_IDLE_PARK")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--tide-idle-retire", c.idle_retire,
                   "Seconds a spawned worker stays parked before it retires and frees its slot")
        ->envname("TIDE_IDLE_RETIRE")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--tide-cooldown", c.cooldown,
                   "Seconds without spawning after a failed spawn (doubles while they keep "
                   "failing)")
        ->envname("TIDE_COOLDOWN")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--tide-spawn-timeout", s.spawn,
                   "Seconds a spawn may take before it is given up on")
        ->envname("TIDE_SPAWN_TIMEOUT")
        ->check(CLI::Range(0.1, 86400.0));
    app.add_option("--tide-spawn-info", c.spawn_info,
                   "KEY=VALUE for the MPI_Info of MPI_Comm_spawn (for example host=node7); "
                   "repeatable")
        ->envname("TIDE_SPAWN_INFO")
        ->delimiter(',')
        ->check([](const std::string& v) {
            return v.find('=') == std::string::npos || v.front() == '='
                       ? "expected KEY=VALUE, got '" + v + "'"
                       : std::string();
        });
    app.add_option("--tide-spawned-base", c.spawned_base,
                   "Set by rank 0 on the workers it spawns (the rank of the group's first)")
        ->check(CLI::Range(1, 1 << 30));
    app.add_option("--tide-nodes", s.nodes,
                   "HOST[:SLOTS],...: rank 0 starts its workers on these nodes, a group per node "
                   "as an Open MPI job of its own that joins the run, so that losing a node costs "
                   "only its workers (needs an ompi-server: scripts/tide-run starts one)")
        ->envname("TIDE_NODES")
        ->check([](const std::string& v) {
            try {
                sched::parse_node_list(v);
            } catch (const std::invalid_argument& e) {
                return std::string(e.what());
            }
            return std::string();
        });
    app.add_option("--tide-node-agent", c.node_agent,
                   "The command that runs a command line on a node of --tide-nodes, as "
                   "'AGENT HOST COMMAND' (default: Open MPI's plm_rsh_agent, else ssh)")
        ->envname("TIDE_NODE_AGENT");
    app.add_option("--tide-satellites", c.satellites,
                   "Most satellites at once: Slurm jobs of workers that rank 0 submits with "
                   "sbatch when the backlog outlasts their queue wait, and that join the run "
                   "(needs an ompi-server: scripts/tide-run starts one; 0: none)")
        ->envname("TIDE_SATELLITES")
        ->check(CLI::Range(0, 4096));
    app.add_option("--tide-satellite-sbatch", c.satellite_sbatch,
                   "sbatch options for each satellite (partition, -t time, -N nodes, -n tasks: "
                   "a worker a task)")
        ->envname("TIDE_SATELLITE_SBATCH")
        ->check([](const std::string& v) {
            try {
                parse_satellite_options(v);
            } catch (const std::invalid_argument& e) {
                return std::string(e.what());
            }
            return std::string();
        });
    app.add_option("--tide-satellite-idle", c.satellite_idle,
                   "Seconds all of a satellite's workers are idle before it ends and its nodes "
                   "go back to Slurm")
        ->envname("TIDE_SATELLITE_IDLE")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--tide-satellite-queued", c.satellite_queued,
                   "Most satellites waiting in Slurm's queue at once")
        ->envname("TIDE_SATELLITE_QUEUED")
        ->check(CLI::Range(1, 4096));
    app.add_option("--tide-satellite-nodes", c.satellite_nodes,
                   "Most nodes over all satellites (0: no limit but --tide-satellites)")
        ->envname("TIDE_SATELLITE_NODES")
        ->check(CLI::Range(0, 1 << 20));
    app.add_option("--tide-satellite-dir", c.satellite_dir,
                   "Where satellites meet rank 0, on a file system their nodes see (default: "
                   "tide-satellites-<job or process id> in the current directory; it keeps "
                   "their output)")
        ->envname("TIDE_SATELLITE_DIR");
    app.add_option("--tide-join", c.join_port,
                   "Set by rank 0 on the groups it starts on other nodes: the port to join at");
    app.add_option("--tide-start-timeout", s.start,
                   "Seconds MPI may take to start (MPI_Init) before the process gives up with "
                   "exit code 7 (0: no limit)")
        ->envname("TIDE_START_TIMEOUT")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--tide-spawned-deadline", s.spawned_deadline,
                   "Set by rank 0 on the workers it spawns: seconds after which one still inside "
                   "MPI_Init ends itself")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--tide-bind", c.bind,
                   "Bind each worker to a core or a NUMA node of its host, or not at all")
        ->envname("TIDE_BIND")
        ->check(CLI::IsMember({"core", "numa", "none"}));
    app.add_option("--tide-placement", c.placement,
                   "Fill a host's cores in order (compact) or spread over its NUMA nodes and "
                   "packages first (scatter)")
        ->envname("TIDE_PLACEMENT")
        ->check(CLI::IsMember({"compact", "scatter"}));
    app.add_flag("--tide-report-bindings", c.report_bindings,
                 "Print where every rank is bound at start-up and whenever it changes")
        ->envname("TIDE_REPORT_BINDINGS");
    app.add_option("--tide-heartbeat", s.heartbeat,
                   "Seconds of silence after which a worker (seen from rank 0) or rank 0 (seen "
                   "from a worker) counts as lost")
        ->envname("TIDE_HEARTBEAT")
        ->check(CLI::Range(0.5, 86400.0));  // rank 0 looks at least every 0.1 s
    app.add_option("--tide-max-retries", c.max_retries,
                   "Times a task may be run again after its worker died; one more loss and it "
                   "fails with tide::worker_lost")
        ->envname("TIDE_MAX_RETRIES")
        ->check(CLI::Range(0, 100));
    app.add_option("--tide-walltime", c.walltime,
                   "Seconds the run may take from its start; late in the run, workers brought "
                   "in start only tasks expected to finish (default: the Slurm job's time "
                   "limit; 0: no limit)")
        ->envname("TIDE_WALLTIME")
        ->check(CLI::Range(0.0, 1e9));
    app.add_option("--tide-exit-code-file", c.exit_code_file,
                   "Rank 0 writes its exit code here (mpirun --enable-recovery exits 0 whatever "
                   "the ranks return; scripts/tide-run reads it)")
        ->envname("TIDE_EXIT_CODE_FILE");
    app.add_option("--tide-timeline", c.timeline_path,
                   "Write the run's timeline (pool state, scaling events) to this file at the "
                   "end: JSON if it ends in .json, else CSV")
        ->envname("TIDE_TIMELINE");
    app.add_option("--tide-status-interval", c.status_interval,
                   "Seconds between rank 0's status lines when its output is not a terminal "
                   "(always under mpirun)")
        ->envname("TIDE_STATUS_INTERVAL")
        ->check(CLI::Range(0.1, 86400.0));
    app.add_flag("--tide-quiet", c.quiet, "No progress or status lines and no summary at the end")
        ->envname("TIDE_QUIET");
    app.add_option("--tide-stats", c.stats_path,
                   "Write the run's statistics (the summary's numbers) to this JSON file at the "
                   "end")
        ->envname("TIDE_STATS");
    app.add_option("--tide-trace", c.trace_path,
                   "Write a Chrome trace-event JSON file (Perfetto, chrome://tracing) of the run "
                   "at the end: a span per task, scaling events, counters")
        ->envname("TIDE_TRACE");
    app.add_option("--tide-stack-size", c.stack_mib,
                   "MiB of stack for the thread that runs tasks (nested waits use it)")
        ->envname("TIDE_STACK_SIZE")
        ->check(CLI::Range(1u, 1u << 20));
    app.add_option("--tide-journal", c.journal_path,
                   "Record every result of the driver's tasks in this file; a later run with "
                   "the same journal answers those tasks from it instead of running them")
        ->envname("TIDE_JOURNAL");
    app.add_option("--tide-journal-salt", c.journal_salt,
                   "Text mixed into every journal key: change it when the tasks' code changes, "
                   "so that older results no longer apply")
        ->envname("TIDE_JOURNAL_SALT")
        ->check([](const std::string& v) {
            return v.size() > 1000 ? std::string("at most 1000 characters") : std::string();
        });
    app.add_option("--tide-journal-sync", s.journal_sync,
                   "Seconds between the journal's syncs to disk: a killed rank 0 loses at most "
                   "the results of the last interval")
        ->envname("TIDE_JOURNAL_SYNC")
        ->check(CLI::Range(0.01, 3600.0));
    app.add_flag("--tide-journal-salvage", c.journal_salvage,
                 "Use a journal damaged in the middle: keep the records that check (the file is "
                 "kept as PATH.damaged)")
        ->envname("TIDE_JOURNAL_SALVAGE");
    app.add_flag("--tide-journal-adopt", c.journal_adopt,
                 "Use a journal written by another program or with another salt (with a new "
                 "salt, the old file is kept as PATH.replaced and a new one starts)")
        ->envname("TIDE_JOURNAL_ADOPT");
    app.add_flag("--tide-help", c.help, "Print the runtime's options and exit");
}

// TIDE_* variables read by the project's scripts, not by the runtime: no warning for these.
constexpr std::string_view script_variables[] = {"TIDE_BUILD_TYPE",    "TIDE_JOBS",
                                                 "TIDE_TEST_JOBS",     "TIDE_DEMO_RANKS",
                                                 "TIDE_SKIP_SANITIZE", "TIDE_SKIP_FUZZ"};

// An unknown TIDE_* variable is most likely a typo of a setting: say so, but do not stop the
// run (the environment is shared with everything else a job runs, so it is not an error).
std::vector<std::string> check_environment(const CLI::App& app) {
    std::set<std::string, std::less<>> known(std::begin(script_variables),
                                             std::end(script_variables));
    for (const CLI::Option* opt : app.get_options())
        if (!opt->get_envname().empty()) known.insert(opt->get_envname());
    std::vector<std::string> warnings;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        if (entry.substr(0, 5) != "TIDE_") continue;
        const auto name = entry.substr(0, entry.find('='));
        if (known.count(name)) continue;
        std::string list;
        for (const CLI::Option* opt : app.get_options())
            if (!opt->get_envname().empty())
                list += (list.empty() ? "" : ", ") + opt->get_envname();
        warnings.push_back("unknown environment variable " + std::string(name) +
                           " is ignored; the runtime reads " + list);
    }
    return warnings;
}

// Option names that take a value, so "--tide-prefetch 64" (two arguments) is stripped whole.
bool takes_value(const CLI::App& app, std::string_view arg) {
    for (const CLI::Option* opt : app.get_options())
        // A flag expects no value (CLI11 gives flags a type size of 1 too).
        if (opt->get_expected_min() > 0 && !opt->get_lnames().empty() &&
            "--" + opt->get_lnames().front() == arg)
            return true;
    return false;
}

}  // namespace

config parse_config(int& argc, char** argv) {
    config c;
    raw_values raw;
    CLI::App app{"tide runtime options (also read from the TIDE_* environment variables)", "tide"};
    app.set_help_flag();  // --help belongs to the user's program
    add_options(app, c, raw);

    // Split argv: --tide-* arguments (and their separate values) go to CLI11, the rest stay for
    // the program, in order. Nothing after "--" is ours.
    std::vector<std::string> ours{"tide"};
    int keep = 1;
    bool passthrough = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg(argv[i]);
        if (arg == "--") passthrough = true;
        if (!passthrough && arg.substr(0, flag_prefix.size()) == flag_prefix) {
            ours.emplace_back(arg);
            if (arg.find('=') == std::string_view::npos && takes_value(app, arg) && i + 1 < argc)
                ours.emplace_back(argv[++i]);
            continue;
        }
        argv[keep++] = argv[i];
    }
    argc = keep;
    argv[argc] = nullptr;

    std::vector<const char*> cargv;
    for (const auto& s : ours) cargv.push_back(s.c_str());
    try {
        app.parse(static_cast<int>(cargv.size()), cargv.data());
    } catch (const CLI::ParseError& e) {
        throw config_error("tide: " + std::string(e.what()) +
                           " (run with --tide-help for the list)");
    }
    c.warnings = check_environment(app);
    const auto milliseconds = [](double s) {
        return std::chrono::milliseconds(static_cast<long>(s * 1000));
    };
    c.shutdown_timeout = milliseconds(raw.shutdown);
    c.receive_timeout = milliseconds(raw.receive);
    c.spawn_timeout = milliseconds(raw.spawn);
    c.heartbeat = milliseconds(raw.heartbeat);
    c.spawned_deadline = milliseconds(raw.spawned_deadline);
    c.start_timeout = milliseconds(raw.start);
    c.journal_sync = milliseconds(raw.journal_sync);
    if (!raw.nodes.empty()) c.nodes = sched::parse_node_list(raw.nodes);
    if (c.batch_max > c.prefetch) c.batch_max = c.prefetch;
    c.help_text = app.help();
    return c;
}

}  // namespace tide::detail
