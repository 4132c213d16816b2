#include "mpi/spawner.hpp"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "platform/log.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

namespace {

struct job {
    enum class kind { spawn, accept, disconnect } what = kind::spawn;
    std::uint64_t group = 0;
    int count = 0;
    int first = 0;
    std::string port;               // accept: the port the group connects to
    MPI_Comm comm = MPI_COMM_NULL;  // disconnect: the retired group's
    bool starts_group() const { return what != kind::disconnect; }
};

std::string mpi_error_text(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        return "MPI error " + std::to_string(code);
    return std::string(text, static_cast<std::size_t>(len));
}

}  // namespace

// What outlives an abandoned thread: the settings it reads and the mailbox it posts to.
struct spawner::shared {
    std::string command;
    std::vector<std::string> args;
    std::vector<std::string> info;
    std::chrono::milliseconds timeout;
    std::mutex mu;
    std::vector<spawn_outcome> done;
    int abandoned = 0;  // jobs given up on
    int stuck = 0;      // of those, still inside MPI
};

// One thread running jobs in order; replaced when its current job passes the deadline.
struct spawner::runner {
    std::condition_variable wake;
    std::deque<job> jobs;
    bool running = false;  // a job has been taken and is inside MPI
    job current;
    clock::time_point started;
    bool abandoned = false;
    bool stop = false;
    std::thread thread;
};

namespace {

spawn_outcome run_spawn(const job& j, const std::string& command, std::vector<std::string> args,
                        const std::vector<std::string>& info_entries) {
    spawn_outcome out;
    out.group = j.group;
    args.push_back("--tide-spawned-base=" + std::to_string(j.first));
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    MPI_Info info = MPI_INFO_NULL;
    MPI_Info_create(&info);
    for (const auto& entry : info_entries) {
        const auto eq = entry.find('=');
        MPI_Info_set(info, entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str());
    }
    std::vector<int> codes(static_cast<std::size_t>(j.count), MPI_SUCCESS);
    std::string cmd = command;
    MPI_Comm comm = MPI_COMM_NULL;
    const int rc = MPI_Comm_spawn(cmd.data(), argv.data(), j.count, info, 0, MPI_COMM_SELF, &comm,
                                  codes.data());
    MPI_Info_free(&info);
    if (rc != MPI_SUCCESS) {
        out.error = mpi_error_text(rc);
    } else {
        for (int c : codes)
            if (c != MPI_SUCCESS) out.error = mpi_error_text(c);
    }
    if (!out.error.empty() && comm != MPI_COMM_NULL) {
        // Some of the group started: let them go rather than run a partial group.
        MPI_Comm_disconnect(&comm);
        comm = MPI_COMM_NULL;
    }
    if (comm != MPI_COMM_NULL) MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    out.comm = intercomm(comm);
    return out;
}

// Waits for a group started outside MPI (on another node) to connect to `j.port`, which it
// then closes. A group of another size than asked for is refused: its numbering would be
// wrong. (It is left connected: disconnecting waits for it, and it ends itself.)
spawn_outcome run_accept(const job& j) {
    spawn_outcome out;
    out.group = j.group;
    MPI_Comm comm = MPI_COMM_NULL;
    std::string port = j.port;
    const int rc = MPI_Comm_accept(port.data(), MPI_INFO_NULL, 0, MPI_COMM_SELF, &comm);
    MPI_Close_port(port.data());
    if (rc != MPI_SUCCESS) {
        out.error = "MPI_Comm_accept: " + mpi_error_text(rc);
        return out;
    }
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    int size = 0;
    MPI_Comm_remote_size(comm, &size);
    if (size != j.count) {
        out.error = "a group of " + std::to_string(size) + " joined where " +
                    std::to_string(j.count) + " were started";
        return out;
    }
    out.comm = intercomm(comm);
    return out;
}

}  // namespace

spawner::spawner(std::string command, std::vector<std::string> args, std::vector<std::string> info,
                 std::chrono::milliseconds timeout)
    : shared_(std::make_shared<shared>()) {
    shared_->command = std::move(command);
    shared_->args = std::move(args);
    shared_->info = std::move(info);
    shared_->timeout = timeout;
    // A failed spawn returns an error instead of ending the job.
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    start_runner();
}

void spawner::start_runner() {
    auto r = std::make_shared<runner>();
    auto sh = shared_;
    r->thread = std::thread([sh, r] {
        std::unique_lock lock(sh->mu);
        for (;;) {
            r->wake.wait(lock, [&] { return r->stop || !r->jobs.empty(); });
            if (r->jobs.empty()) return;
            r->current = r->jobs.front();
            r->jobs.pop_front();
            r->running = true;
            r->started = clock::now();
            const job j = r->current;
            lock.unlock();
            spawn_outcome out;
            if (j.what == job::kind::spawn) {
                out = run_spawn(j, sh->command, sh->args, sh->info);
            } else if (j.what == job::kind::accept) {
                out = run_accept(j);
            } else {
                MPI_Comm c = j.comm;
                const int rc = MPI_Comm_disconnect(&c);
                if (rc != MPI_SUCCESS)
                    log().warn("disconnecting a retired group failed: {}", mpi_error_text(rc));
            }
            out.seconds = std::chrono::duration<double>(clock::now() - r->started).count();
            lock.lock();
            r->running = false;
            if (j.starts_group()) {
                out.late = r->abandoned;
                sh->done.push_back(std::move(out));
            }
            if (r->abandoned) {
                --sh->stuck;
                return;  // its jobs went to the runner that replaced it
            }
        }
    });
    runner_ = std::move(r);
}

spawner::~spawner() {
    std::unique_lock lock(shared_->mu);
    runner_->stop = true;
    runner_->wake.notify_all();
    const bool stuck = runner_->running;
    lock.unlock();
    // A thread inside a hung MPI call cannot be joined; the process ends without finalizing.
    if (stuck)
        runner_->thread.detach();
    else
        runner_->thread.join();
}

void spawner::spawn(std::uint64_t group, int count, int first) {
    std::lock_guard lock(shared_->mu);
    job j;
    j.group = group;
    j.count = count;
    j.first = first;
    runner_->jobs.push_back(j);
    runner_->wake.notify_one();
}

void spawner::accept(std::uint64_t group, int count, std::string port) {
    std::lock_guard lock(shared_->mu);
    job j;
    j.what = job::kind::accept;
    j.group = group;
    j.count = count;
    j.port = std::move(port);
    runner_->jobs.push_back(j);
    runner_->wake.notify_one();
}

void spawner::disconnect(intercomm comm) {
    std::lock_guard lock(shared_->mu);
    job j;
    j.what = job::kind::disconnect;
    j.comm = comm.release();
    runner_->jobs.push_back(j);
    runner_->wake.notify_one();
}

void spawner::abandon_current(std::unique_lock<std::mutex>& lock, std::string why) {
    auto& r = *runner_;
    ++shared_->abandoned;
    ++shared_->stuck;
    const double seconds = std::chrono::duration<double>(clock::now() - r.started).count();
    if (r.current.starts_group()) {
        spawn_outcome out;
        out.group = r.current.group;
        out.seconds = seconds;
        out.error = std::move(why);
        out.hung = true;
        shared_->done.push_back(std::move(out));
    } else {
        log().error("disconnecting a retired group did not finish within {:.1f} s (given up)",
                    seconds);
    }
    r.abandoned = true;
    auto old = runner_;
    auto queued = std::move(old->jobs);
    old->thread.detach();
    lock.unlock();
    start_runner();
    lock.lock();
    runner_->jobs = std::move(queued);
    runner_->wake.notify_one();
}

std::vector<spawn_outcome> spawner::collect() {
    std::unique_lock lock(shared_->mu);
    auto& r = *runner_;
    if (r.running && clock::now() - r.started > shared_->timeout) {
        char text[96];
        std::snprintf(text, sizeof text, "%s did not return within %.1f s (given up)",
                      r.current.what == job::kind::accept ? "MPI_Comm_accept" : "MPI_Comm_spawn",
                      static_cast<double>(shared_->timeout.count()) / 1000.0);
        abandon_current(lock, text);
    }
    return std::exchange(shared_->done, {});
}

void spawner::give_up(std::uint64_t group, const std::string& why) {
    std::unique_lock lock(shared_->mu);
    auto& r = *runner_;
    if (r.running && r.current.starts_group() && r.current.group == group) {
        abandon_current(lock, why);
        return;
    }
    for (auto it = r.jobs.begin(); it != r.jobs.end(); ++it)
        if (it->starts_group() && it->group == group) {
            if (it->what == job::kind::accept) MPI_Close_port(it->port.data());
            r.jobs.erase(it);
            break;
        }
    // Queued (now dropped) or never queued: it fails now, unless it finished meanwhile.
    for (const auto& o : shared_->done)
        if (o.group == group) return;
    spawn_outcome out;
    out.group = group;
    out.error = why;
    shared_->done.push_back(std::move(out));
}

bool spawner::busy() const {
    std::lock_guard lock(shared_->mu);
    return runner_->running || !runner_->jobs.empty();
}

int spawner::abandoned() const {
    std::lock_guard lock(shared_->mu);
    return shared_->abandoned;
}

int spawner::stuck() const {
    std::lock_guard lock(shared_->mu);
    return shared_->stuck;
}

bool spawner::wait_idle(clock::time_point deadline) {
    while (busy()) {
        if (clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace tide::detail
