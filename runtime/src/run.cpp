#include "tide/run.hpp"

#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "big_stack.hpp"
#include "config.hpp"
#include "engine_state.hpp"
#include "log.hpp"
#include "mpi_call.hpp"
#include "transport.hpp"
#include "worker.hpp"

namespace tide::detail {

namespace {

// Exit codes besides the driver's own.
constexpr int exit_driver_threw = 1;
constexpr int exit_bad_config = 2;
constexpr int exit_workers_stuck = 3;
constexpr int exit_runtime_failure = 4;

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

// Starts MPI unless the program already did, and finalizes only what it started.
class mpi_session {
public:
    mpi_session(int& argc, char**& argv) {
        int initialized = 0;
        TIDE_MPI(MPI_Initialized, &initialized);
        if (!initialized) {
            // MULTIPLE leaves room for threads that spawn ranks; rank 0's own progress needs
            // only SERIALIZED, since one mutex guards its MPI calls.
            TIDE_MPI(MPI_Init_thread, &argc, &argv, MPI_THREAD_MULTIPLE, &provided_);
            owned_ = true;
            TIDE_MPI(MPI_Comm_set_errhandler, MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        } else {
            TIDE_MPI(MPI_Query_thread, &provided_);
        }
    }
    ~mpi_session() {
        if (owned_) MPI_Finalize();
    }
    int thread_level() const { return provided_; }

private:
    bool owned_ = false;
    int provided_ = MPI_THREAD_SINGLE;
};

int drive(const config& cfg, transport& net, const std::string& host, std::vector<std::string> args,
          const std::function<int(driver&)>& body, bool background_progress) {
    auto eng = std::make_shared<engine>(std::make_unique<engine_state>(cfg, net, host));
    if (background_progress) eng->state().start_background();
    log().info("driver starting with {} worker(s)", eng->worker_count());
    int code = 0;
    try {
        driver d(eng, std::move(args));
        code = body(d);
    } catch (const std::exception& e) {
        log().error("the driver failed: {}", e.what());
        code = exit_driver_threw;
    } catch (...) {
        log().error("the driver failed with an exception not derived from std::exception");
        code = exit_driver_threw;
    }
    bool clean = false;
    try {
        clean = eng->close();
    } catch (const std::exception& e) {
        log().error("shutdown failed: {}", e.what());
    }
    if (!clean) {
        // Finalize would wait for the stuck workers forever: end the job instead.
        log().critical("aborting the job: not every worker stopped");
        MPI_Abort(MPI_COMM_WORLD, code != 0 ? code : exit_workers_stuck);
    }
    return code;
}

}  // namespace

int run_main(int& argc, char** argv, const std::function<int(driver&)>& body) {
    config cfg;
    try {
        cfg = parse_config(argc, argv);
    } catch (const config_error& e) {
        if (launcher_says_rank_zero()) std::cerr << e.what() << std::endl;
        return exit_bad_config;
    }
    if (cfg.help) {
        if (launcher_says_rank_zero()) std::cout << cfg.help_text << std::flush;
        return 0;
    }
    std::vector<std::string> args(argv, argv + argc);
    mpi_session mpi(argc, argv);
    try {
        MPI_Comm comm;
        // The one collective after MPI starts: tide's own communicator, so its messages never
        // mix with the program's.
        TIDE_MPI(MPI_Comm_dup, MPI_COMM_WORLD, &comm);
        TIDE_MPI(MPI_Comm_set_errhandler, comm, MPI_ERRORS_RETURN);
        transport net(comm, cfg.receive_timeout);
        const std::string host = host_name();
        configure_log(cfg.log_level, net.rank(), host);
        if (net.rank() == 0)
            for (const auto& w : cfg.warnings) log().warn("{}", w);
        // Threads besides the one that called tide may make MPI calls only with
        // MPI_THREAD_MULTIPLE: the program's own code may use MPI at the same time.
        const bool background = mpi.thread_level() >= MPI_THREAD_MULTIPLE;
        if (!background && net.rank() == 0)
            log().warn(
                "MPI provides thread level {} (not MULTIPLE): tide makes progress only "
                "inside its own calls",
                mpi.thread_level());
        // Tasks run on a thread whose stack is sized for nested waits: the worker's task
        // thread, or on a single rank the driver's (rank 0 then runs the tasks). Other MPI
        // threads need MPI_THREAD_MULTIPLE; without it everything stays on this thread.
        const auto on_task_stack = [&](const std::function<int()>& fn) {
            return background ? run_with_stack(std::size_t{cfg.stack_mib} << 20, fn) : fn();
        };
        if (net.rank() != 0)
            return on_task_stack([&] { return run_worker(cfg, net, host, background); });
        return on_task_stack(
            [&] { return drive(cfg, net, host, std::move(args), body, background); });
    } catch (const std::exception& e) {
        // A failure of the runtime itself (an MPI error, a message that never completed).
        // Returning would reach MPI_Finalize, which waits for every rank and would hang while
        // a peer still waits on this one: end the whole job instead.
        log().critical("{}; aborting the job", e.what());
        MPI_Abort(MPI_COMM_WORLD, exit_runtime_failure);
        return exit_runtime_failure;
    }
}

}  // namespace tide::detail
