#include "tide/run.hpp"

#include <mpi.h>
#include <unistd.h>

#include <csignal>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "exec/big_stack.hpp"
#include "mpi/mpi_call.hpp"
#include "mpi/transport.hpp"
#include "platform/allocation.hpp"
#include "platform/config.hpp"
#include "platform/log.hpp"
#include "rank0/engine_state.hpp"
#include "tide/error.hpp"
#include "worker/worker.hpp"

namespace tide::detail {

namespace {

// Exit codes besides the driver's own.
constexpr int exit_driver_threw = 1;
constexpr int exit_bad_config = 2;
constexpr int exit_workers_stuck = 3;
constexpr int exit_runtime_failure = 4;
// A spawned worker that never got through MPI_Init ends with 0: rank 0 already gave up on it,
// and a non-zero code makes a singleton's Open MPI daemon report the spawned job as aborted.
constexpr int exit_spawned_unconnected = 0;
// A worker of a group started on another node that could not join rank 0 in time.
constexpr int exit_join_failed = 6;
// MPI did not start within --tide-start-timeout.
constexpr int exit_start_failed = 7;

// Before MPI starts, the launcher's environment tells whether this is rank 0, so a config
// error is printed once, not once per rank.
bool launcher_says_rank_zero() {
    for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"})
        if (const char* v = std::getenv(var)) return std::string(v) == "0";
    return true;
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
    return buf;
}

// Ends the process with `code` if the guarded call has not returned by the deadline: MPI_Finalize
// and MPI_Comm_disconnect wait for peers, and a peer that is gone would make them wait for ever.
class exit_deadline {
public:
    exit_deadline(std::chrono::milliseconds limit, int code, const char* what) {
        watcher_ = std::thread([this, limit, code, what] {
            std::unique_lock lock(mu_);
            if (cv_.wait_for(lock, limit, [&] { return done_; })) return;
            log().error("{} did not return within {:.1f} s; the process exits without it", what,
                        limit.count() / 1000.0);
            exit_now(code);
        });
    }
    ~exit_deadline() {
        {
            std::lock_guard lock(mu_);
            done_ = true;
        }
        cv_.notify_all();
        watcher_.join();
    }
    exit_deadline(const exit_deadline&) = delete;
    exit_deadline& operator=(const exit_deadline&) = delete;

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread watcher_;
};

// Rank 0's exit code, for the launch scripts (see config::exit_code_file). Set once the run's
// code is known; written at every way out of rank 0.
std::string exit_code_file;

void record_exit_code(int code) {
    if (exit_code_file.empty()) return;
    if (FILE* f = std::fopen(exit_code_file.c_str(), "w")) {
        std::fprintf(f, "%d\n", code);
        std::fclose(f);
    }
}

// Leaves without MPI_Finalize: a call on another thread never returned, and finalizing under it
// could hang or crash.
[[noreturn]] void exit_without_finalize(int code) {
    record_exit_code(code);
    exit_now(code);
}

// Settings Open MPI reads at MPI_Init, unless the user set them: tide keeps its own slot
// accounting (--tide-max-workers), so Open MPI must not refuse a spawn because a retired
// worker's slot is freed late.
void prepare_open_mpi_environment() { setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 0); }

// Whether the launcher lets a process end without MPI_Finalize and keeps the rest of the job:
// a singleton's own Open MPI daemon does, and so does mpirun --enable-recovery (it tells its
// ranks so in their environment). Plain mpirun aborts the whole job when one does.
bool launcher_survives_an_exit(bool by_mpirun) {
    if (!by_mpirun) return true;
    const char* recovery = std::getenv("OMPI_MCA_orte_enable_recovery");
    return recovery && (std::string(recovery) == "1" || std::string(recovery) == "true");
}

// Starts MPI unless the program already did, and finalizes only what it started.
class mpi_session {
public:
    mpi_session(int& argc, char**& argv, std::chrono::milliseconds finalize_limit)
        : finalize_limit_(finalize_limit) {
        int initialized = 0;
        TIDE_MPI(MPI_Initialized, &initialized);
        if (!initialized) {
            prepare_open_mpi_environment();
            // MULTIPLE leaves room for threads that spawn ranks; rank 0's own progress needs
            // only SERIALIZED, since one mutex guards its MPI calls.
            TIDE_MPI(MPI_Init_thread, &argc, &argv, MPI_THREAD_MULTIPLE, &provided_);
            owned_ = true;
            TIDE_MPI(MPI_Comm_set_errhandler, MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        } else {
            TIDE_MPI(MPI_Query_thread, &provided_);
        }
    }
    // Finalizes what this session started, within the limit; returns `code`.
    int end(int code) {
        if (owned_) {
            exit_deadline guard(finalize_limit_, code, "MPI_Finalize");
            MPI_Finalize();
            owned_ = false;
        }
        return code;
    }
    ~mpi_session() {
        if (owned_) MPI_Finalize();
    }
    int thread_level() const { return provided_; }

private:
    std::chrono::milliseconds finalize_limit_;
    bool owned_ = false;
    int provided_ = MPI_THREAD_SINGLE;
};

// The journal of --tide-journal, loaded and reported; durable at a SIGTERM or SIGUSR1.
std::unique_ptr<result_journal> open_journal(const config& cfg, const std::string& program) {
    journal_settings js;
    js.path = cfg.journal_path;
    js.salt = cfg.journal_salt;
    js.program = std::filesystem::path(program).filename().string();
    js.task_set = registry::instance().task_set();
    js.sync = cfg.journal_sync;
    js.salvage = cfg.journal_salvage;
    js.adopt = cfg.journal_adopt;
    const auto started = std::chrono::steady_clock::now();
    auto journal = std::make_unique<result_journal>(std::move(js));
    const auto& o = journal->opening();
    log().info("journal {}: {} ({} result(s), {} byte(s)) in {:.3f} s", cfg.journal_path,
               o.created ? "created" : "loaded", o.records, journal->size_bytes(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    journal->sync_on_signals();
    return journal;
}

int drive(const config& cfg, transport& net, const std::string& host, launch_facts launch,
          std::vector<std::string> args, const std::function<int(driver&)>& body,
          bool background_progress) {
    // Plain mpirun ends the whole job when a process leaves without MPI_Finalize, and then
    // exits 1 whatever rank 0's code was.
    const bool exit_aborts_job = !launch.spawned_end_themselves && launch.by_mpirun;
    auto eng =
        std::make_shared<engine>(std::make_unique<engine_state>(cfg, net, host, std::move(launch)));
    if (background_progress) eng->state().start_background();
    int code = 0;
    // Loaded while the workers are up (and, with background progress, heartbeats flow): a
    // large journal takes seconds. A journal that cannot be used ends the run before the driver
    // starts, with the reason.
    if (!cfg.journal_path.empty()) {
        try {
            auto journal = open_journal(cfg, args.empty() ? std::string() : args[0]);
            std::lock_guard lock(eng->state().mu);
            eng->state().journal = std::move(journal);
        } catch (const config_error& e) {
            std::cerr << e.what() << std::endl;
            code = exit_bad_config;
        }
    }
    if (code == 0) log().info("driver starting with {} worker(s)", eng->worker_count());
    try {
        if (code == 0) {
            driver d(eng, std::move(args));
            code = body(d);
        }
    } catch (const std::exception& e) {
        log().error("the driver failed: {}", e.what());
        code = exit_driver_threw;
    } catch (...) {
        log().error("the driver failed with an exception not derived from std::exception");
        code = exit_driver_threw;
    }
    auto how = engine::ending::workers_stuck;
    try {
        how = eng->close();
    } catch (const std::exception& e) {
        log().error("shutdown failed: {}", e.what());
    }
    if (how == engine::ending::mpi_stuck && exit_aborts_job) {
        // A spawned process stuck inside MPI_Init keeps mpirun waiting until rank 0 leaves, and
        // leaving without MPI_Finalize would make mpirun exit 1. MPI_Abort ends the job (that
        // process too) with the run's own exit code.
        log().warn("ending the job with MPI_Abort({}): a spawned process is stuck in MPI_Init",
                   code);
        record_exit_code(code);
        exit_deadline guard(cfg.shutdown_timeout, code, "MPI_Abort");
        MPI_Abort(MPI_COMM_WORLD, code);
    }
    if (how == engine::ending::mpi_stuck || how == engine::ending::peers_lost)
        exit_without_finalize(code);
    if (how == engine::ending::workers_stuck) {
        // Finalize would wait for the stuck workers forever: end the job instead.
        log().critical("aborting the job: not every worker stopped");
        record_exit_code(code != 0 ? code : exit_workers_stuck);
        MPI_Abort(MPI_COMM_WORLD, code != 0 ? code : exit_workers_stuck);
    }
    return code;
}

// Open MPI's MPI_UNIVERSE_SIZE: the slots mpirun (or Slurm, through mpirun) allows; for a
// singleton, the Slurm allocation's tasks, or else the cores of this machine.
int slots_available(int world_size, const allocation& job) {
    int* universe = nullptr;
    int found = 0;
    if (MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &universe, &found) == MPI_SUCCESS &&
        found && universe && *universe > world_size)
        return *universe;
    if (world_size > 1) return world_size;
    // A singleton inside a Slurm allocation (started without mpirun): the allocation's tasks.
    if (job.tasks > 0) return job.tasks;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// What spawned workers run: this very program (by its path in /proc, so a relative argv[0] or
// a changed directory does not matter), with the arguments it was started with.
std::string own_executable() {
    char path[4096];
    const auto n = readlink("/proc/self/exe", path, sizeof path - 1);
    return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

// The ompi-server this job was started with (mpirun --ompi-server file:F puts "file:F" in the
// environment of its ranks): the groups rank 0 starts on other nodes are given its contact
// itself, so the file need not be on their node.
std::string ompi_server_contact(const std::string& for_what) {
    const char* uri = std::getenv("OMPI_MCA_pmix_server_uri");
    if (!uri || !*uri)
        throw config_error(
            "tide: " + for_what +
            " needs an ompi-server, through which groups of workers started as jobs of their "
            "own join rank 0: start the run with scripts/tide-run (it starts one), or start "
            "ompi-server yourself and give mpirun --ompi-server file:FILE (a program started "
            "without mpirun: OMPI_MCA_pmix_server_uri=file:FILE)");
    const std::string value(uri);
    if (value.rfind("file:", 0) != 0) return value;
    std::ifstream in(value.substr(5));
    std::string contact;
    if (!std::getline(in, contact) || contact.empty())
        throw config_error("tide: cannot read the ompi-server's contact from '" + value.substr(5) +
                           "'");
    return contact;
}

// --tide-satellites: how rank 0 submits them, and where they meet it (a directory named for
// this job, or this process, in the current directory unless --tide-satellite-dir says).
satellite_launch_settings satellite_launch_for(const config& cfg, const launch_facts& launch) {
    satellite_launch_settings s;
    s.request = parse_satellite_options(cfg.satellite_sbatch);  // checked with the flags
    s.server_uri = ompi_server_contact("--tide-satellites");
    s.command = launch.spawn_command;
    s.args = launch.spawn_args;
    const std::string run =
        launch.job.inside_slurm() ? launch.job.job_id : std::to_string(getpid());
    s.run_dir = cfg.satellite_dir;
    if (s.run_dir.empty())
        s.run_dir = std::filesystem::current_path().string() + "/tide-satellites-" + run;
    s.job_name = "tide-satellite-" + run;
    // A satellite waits this long for rank 0's answer once its job started: rank 0 answers
    // within a scaling tick, so a silent rank 0 is gone.
    s.answer_timeout = std::max(60.0, static_cast<double>(cfg.spawn_timeout.count()) / 1000.0);
    return s;
}

// A worker started by rank 0 in a group on another node, as a job of its own: the group joins
// rank 0 at the port it was given, all its ranks at once, within the spawn timeout (past it,
// rank 0 has given up on the group, and the process ends).
MPI_Comm join_rank0(const config& cfg) {
    exit_deadline guard(cfg.spawn_timeout, exit_join_failed, "MPI_Comm_connect to rank 0");
    std::string port = cfg.join_port;
    MPI_Comm comm = MPI_COMM_NULL;
    TIDE_MPI(MPI_Comm_connect, port.data(), MPI_INFO_NULL, 0, MPI_COMM_WORLD, &comm);
    return comm;
}

// A worker started by rank 0 with MPI_Comm_spawn (or in a group that joined it): it talks to
// rank 0 over the parent intercommunicator, and disconnects from it at the end (rank 0 does
// the same).
int run_spawned(const config& cfg, MPI_Comm parent,
                const std::function<int(const std::function<int()>&)>& on_task_stack,
                bool background) {
    if (cfg.spawned_base < 1)
        throw error(
            "tide: this process was started with MPI_Comm_spawn by a program that is not a tide "
            "rank 0 (no --tide-spawned-base)");
    int local = 0;
    TIDE_MPI(MPI_Comm_rank, MPI_COMM_WORLD, &local);
    const int rank = cfg.spawned_base + local;
    const std::string host = host_name();
    configure_log(cfg.log_level, rank, host);
    TIDE_MPI(MPI_Comm_set_errhandler, parent, MPI_ERRORS_RETURN);
    int code = 0;
    {
        transport net(parent, false, cfg.receive_timeout);
        code = on_task_stack([&] { return run_worker(cfg, net, rank, host, background); });
    }
    exit_deadline guard(cfg.shutdown_timeout, code, "MPI_Comm_disconnect from rank 0");
    MPI_Comm_disconnect(&parent);
    return code;
}

}  // namespace

int run_main(int& argc, char** argv, const std::function<int(driver&)>& body) {
    // The arguments as started, --tide-* flags included: spawned workers get the same.
    const std::vector<std::string> launch_args(argv + 1, argv + argc);
    config cfg;
    try {
        cfg = parse_config(argc, argv);
    } catch (const config_error& e) {
        if (launcher_says_rank_zero()) {
            std::cerr << e.what() << std::endl;
            // The flags did not parse: the launch script's variable still names the file.
            if (const char* f = std::getenv("TIDE_EXIT_CODE_FILE")) exit_code_file = f;
            record_exit_code(exit_bad_config);
        }
        return exit_bad_config;
    }
    if (cfg.help) {
        if (launcher_says_rank_zero()) std::cout << cfg.help_text << std::flush;
        return 0;
    }
    std::vector<std::string> args(argv, argv + argc);
    // Before MPI starts: asking squeue forks, which MPI may not take well once it runs; and
    // whether mpirun started this process, which only its environment tells.
    const bool by_mpirun = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;
    allocation job;
    if (cfg.spawned_base < 1 && launcher_says_rank_zero()) job = read_allocation(cfg);
    // A spawned worker's MPI_Init is where Open MPI's spawn hang leaves it for good (inside
    // PMIx_Init). Rank 0 gave up on the spawn by then, and a process stuck there would keep
    // the launcher, and a Slurm job, alive after the run: it ends itself instead. Rank 0 asks
    // for this only where the launcher survives it (--tide-spawned-deadline).
    // Any other process gives MPI --tide-start-timeout to start: a start-up that hangs (Open
    // MPI's, not tide's) ends the process with a reason instead of keeping the job waiting.
    std::optional<exit_deadline> connect_deadline;
    if (cfg.spawned_base >= 1 && cfg.spawned_deadline.count() > 0)
        connect_deadline.emplace(cfg.spawned_deadline, exit_spawned_unconnected,
                                 "MPI_Init of this spawned worker (it never connected to rank 0: "
                                 "Open MPI's spawn hang)");
    else if (cfg.spawned_base < 1 && cfg.start_timeout.count() > 0)
        connect_deadline.emplace(cfg.start_timeout, exit_start_failed,
                                 "MPI_Init (Open MPI's start-up; see --tide-start-timeout)");
    mpi_session mpi(argc, argv, cfg.shutdown_timeout);
    connect_deadline.reset();
    // SIGUSR1 says the job's end is near (Slurm's --signal, which mpirun passes to every
    // rank): rank 0 then makes its journal durable; by default it would end every process.
    struct sigaction usr1 {};
    if (::sigaction(SIGUSR1, nullptr, &usr1) == 0 && usr1.sa_handler == SIG_DFL)
        std::signal(SIGUSR1, SIG_IGN);
    try {
        // Threads besides the one that called tide may make MPI calls only with
        // MPI_THREAD_MULTIPLE: the program's own code may use MPI at the same time.
        const bool background = mpi.thread_level() >= MPI_THREAD_MULTIPLE;
        // Tasks run on a thread whose stack is sized for nested waits: the worker's task
        // thread, or on a single rank the driver's (rank 0 then runs the tasks). Other MPI
        // threads need MPI_THREAD_MULTIPLE; without it everything stays on this thread.
        const std::function<int(const std::function<int()>&)> on_task_stack =
            [&](const std::function<int()>& fn) {
                return background ? run_with_stack(std::size_t{cfg.stack_mib} << 20, fn) : fn();
            };
        MPI_Comm parent = MPI_COMM_NULL;
        if (!cfg.join_port.empty())
            return mpi.end(run_spawned(cfg, join_rank0(cfg), on_task_stack, background));
        TIDE_MPI(MPI_Comm_get_parent, &parent);
        if (parent != MPI_COMM_NULL)
            return mpi.end(run_spawned(cfg, parent, on_task_stack, background));

        MPI_Comm comm;
        // The one collective after MPI starts: tide's own communicator, so its messages never
        // mix with the program's.
        TIDE_MPI(MPI_Comm_dup, MPI_COMM_WORLD, &comm);
        TIDE_MPI(MPI_Comm_set_errhandler, comm, MPI_ERRORS_RETURN);
        int rank = 0, size = 1;
        TIDE_MPI(MPI_Comm_rank, comm, &rank);
        TIDE_MPI(MPI_Comm_size, comm, &size);
        const std::string host = host_name();
        configure_log(cfg.log_level, rank, host);
        int code = 0;
        {
            transport net(comm, true, cfg.receive_timeout);
            if (rank != 0) {
                code = on_task_stack([&] { return run_worker(cfg, net, rank, host, background); });
            } else {
                exit_code_file = cfg.exit_code_file;
                for (const auto& w : cfg.warnings) log().warn("{}", w);
                if (!background)
                    log().warn(
                        "MPI provides thread level {} (not MULTIPLE): tide makes progress only "
                        "inside its own calls, and does not spawn workers",
                        mpi.thread_level());
                launch_facts launch;
                launch.world_size = size;
                launch.slots = slots_available(size, job);
                launch.job = std::move(job);
                launch.by_mpirun = by_mpirun;
                if (background) {
                    launch.spawn_command = own_executable();
                    launch.spawn_args = launch_args;
                    launch.spawned_end_themselves = launcher_survives_an_exit(by_mpirun);
                    if (launch.spawned_end_themselves)
                        launch.spawn_args.push_back(
                            "--tide-spawned-deadline=" +
                            std::to_string(cfg.spawn_timeout.count() / 1000.0));
                    if (!cfg.nodes.empty()) {
                        node_launch_settings nl;
                        nl.nodes = cfg.nodes;
                        nl.agent = node_agent(cfg.node_agent);
                        nl.server_uri = ompi_server_contact("--tide-nodes");
                        nl.command = launch.spawn_command;
                        nl.args = launch.spawn_args;
                        launch.node_launch = std::move(nl);
                    }
                    if (cfg.satellites > 0)
                        launch.satellite_launch = satellite_launch_for(cfg, launch);
                }
                code = on_task_stack([&] {
                    return drive(cfg, net, host, std::move(launch), std::move(args), body,
                                 background);
                });
                record_exit_code(code);
            }
        }
        return mpi.end(code);
    } catch (const config_error& e) {
        // A setting found wrong only once MPI runs (rank 0 only): end the job with the reason.
        std::cerr << e.what() << std::endl;
        record_exit_code(exit_bad_config);
        MPI_Abort(MPI_COMM_WORLD, exit_bad_config);
        return exit_bad_config;
    } catch (const std::exception& e) {
        // A failure of the runtime itself (an MPI error, a message that never completed).
        // Returning would reach MPI_Finalize, which waits for every rank and would hang while
        // a peer still waits on this one: end the whole job instead.
        log().critical("{}; aborting the job", e.what());
        record_exit_code(exit_runtime_failure);
        MPI_Abort(MPI_COMM_WORLD, exit_runtime_failure);
        return exit_runtime_failure;
    }
}

}  // namespace tide::detail
