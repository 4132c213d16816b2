#include "rank0/satellite_jobs.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "platform/log.hpp"
#include "tide/error.hpp"

namespace tide::detail {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto squeue_every = std::chrono::seconds(2);
// How long sbatch and squeue may take (a controller that does not answer): sbatch is then
// stopped and the submission counts as failed (had the job been created after all, it starts,
// hears nothing from rank 0 and ends); squeue is stopped and asked again later.
constexpr auto sbatch_deadline = std::chrono::seconds(60);
constexpr auto squeue_deadline = std::chrono::seconds(30);

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    const auto first = s.find_first_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : s.substr(first);
}

// The environment for sbatch: the launcher's, without the SLURM_* variables of this run's own
// job (sbatch would take some of them as options for the satellite), SLURM_CONF kept.
std::vector<std::string> environment_for_sbatch() {
    std::vector<std::string> env;
    for (auto& e : environment_for_a_launcher())
        if (e.rfind("SLURM_", 0) != 0 || e.rfind("SLURM_CONF=", 0) == 0) env.push_back(e);
    return env;
}

}  // namespace

satellite_jobs::satellite_jobs(satellite_launch_settings settings) : s_(std::move(settings)) {
    std::error_code ec;
    std::filesystem::create_directories(s_.run_dir, ec);
    if (ec)
        throw error("tide: cannot make the satellites' run directory '" + s_.run_dir +
                    "': " + ec.message());
    // A run before this one in the same directory left its rendezvous files: they would pass
    // for this run's satellites starting, or answer them with an old port.
    for (const auto& entry : std::filesystem::directory_iterator(s_.run_dir, ec)) {
        const std::string name = entry.path().filename().string();
        const bool rendezvous = name.rfind("satellite-", 0) == 0 &&
                                (name.ends_with(".started") || name.ends_with(".go") ||
                                 name.ends_with(".part") || name.ends_with(".sbatch"));
        if (rendezvous) std::filesystem::remove(entry.path(), ec);
    }
    write_script();
}

satellite_jobs::~satellite_jobs() {
    // scancel helpers still running are left to finish: a cancel must not be cut short.
    for (auto* p : {&squeue_, &test_only_})
        if (*p) (*p)->end(100);
    for (auto& [id, j] : jobs_)
        if (j.sbatch) j.sbatch->end(1000);
}

std::string satellite_jobs::path(std::uint64_t id, const char* what) const {
    return s_.run_dir + "/satellite-" + std::to_string(id) + "." + what;
}

std::string satellite_jobs::sbatch_said(std::uint64_t id) const {
    return trimmed(read_file(path(id, "sbatch")));
}

std::string satellite_jobs::job_id_in(const std::string& said) {
    // --parsable: "JOBID" or "JOBID;CLUSTER".
    const std::string first = said.substr(0, said.find_first_of(";\n"));
    return all_digits(first) && first.size() < 20 ? first : std::string();
}

void satellite_jobs::reap_helpers() {
    helpers_.erase(std::remove_if(helpers_.begin(), helpers_.end(),
                                  [](auto& h) { return h->ended().has_value(); }),
                   helpers_.end());
}

void satellite_jobs::write_script() const {
    std::string run = "mpirun --enable-recovery --ompi-server " + shell_word(s_.server_uri) +
                      " -n \"$tasks\" " + shell_word(s_.command);
    for (const auto& a : s_.args) run += " " + shell_word(a);
    run += " \"--tide-spawned-base=$first\" \"--tide-join=$port\"";
    const auto timeout = static_cast<long>(std::ceil(s_.answer_timeout));
    std::ofstream out(s_.run_dir + "/satellite.sh");
    out << "#!/bin/bash\n"
           "# A satellite of a tide run: workers that join its rank 0 from an allocation of "
           "their own.\n"
           "# Written by rank 0, which submits it with the satellite's number as argument.\n"
           "dir="
        << shell_word(s_.run_dir)
        << "\n"
           "id=$1\n"
           "tasks=${SLURM_NTASKS:-${SLURM_JOB_NUM_NODES:-1}}\n"
           "printf '%s %s\\n' \"$SLURM_JOB_ID\" \"$tasks\" >\"$dir/satellite-$id.started.part\"\n"
           "mv \"$dir/satellite-$id.started.part\" \"$dir/satellite-$id.started\"\n"
           "# Rank 0 answers with the ranks the workers take and the port they join at (or\n"
           "# 'cancel'); without an answer in time, rank 0 is gone or gave up on this one.\n"
           "go=\"$dir/satellite-$id.go\"\n"
           "deadline=$((SECONDS + "
        << timeout
        << "))\n"
           "while [ ! -s \"$go\" ] && ((SECONDS < deadline)); do sleep 0.1; done\n"
           "if [ ! -s \"$go\" ]; then\n"
           "    echo \"tide satellite $id: no answer from rank 0 within "
        << timeout
        << " s; ending\" >&2\n"
           "    exit 1\n"
           "fi\n"
           "read -r first port <\"$go\"\n"
           "if [ \"$first\" = cancel ]; then\n"
           "    echo \"tide satellite $id: rank 0 no longer needs it; ending\"\n"
           "    exit 0\n"
           "fi\n"
           "exec "
        << run << "\n";
    out.close();
    if (!out || chmod((s_.run_dir + "/satellite.sh").c_str(), 0755) != 0)
        throw error("tide: cannot write the satellite job script into '" + s_.run_dir + "'");
}

void satellite_jobs::submit(std::uint64_t id) {
    // sbatch reads '%' in --output as a pattern: a directory's own is doubled.
    std::string dir;
    for (char c : s_.run_dir) dir += c == '%' ? std::string("%%") : std::string(1, c);
    std::vector<std::string> argv = {
        "sbatch", "--parsable", "--job-name=" + s_.job_name,
        "--output=" + dir + "/satellite-" + std::to_string(id) + "-%j.out"};
    argv.insert(argv.end(), s_.request.options.begin(), s_.request.options.end());
    argv.push_back(s_.run_dir + "/satellite.sh");
    argv.push_back(std::to_string(id));
    try {
        jobs_[id].sbatch =
            std::make_unique<child_process>(argv, environment_for_sbatch(), path(id, "sbatch"));
        jobs_[id].submitted = clock::now();
    } catch (const error& e) {
        jobs_.erase(id);
        pending_.push_back({event::submit_failed, id, {}, 0, e.what(), 0});
    }
}

void satellite_jobs::run_in_background(std::vector<std::string> argv) {
    try {
        helpers_.push_back(
            std::make_unique<child_process>(argv, environment_for_sbatch(), "/dev/null"));
    } catch (const error& e) {
        log().warn("satellites: {}", e.what());
    }
}

void satellite_jobs::cancel(std::uint64_t id) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.ended) return;
    job& j = it->second;
    j.cancel_wanted = true;
    if (j.started && !j.answered) {
        answer(id, -1, {});
        return;
    }
    if (!j.id.empty()) run_in_background({"scancel", j.id});
}

void satellite_jobs::answer(std::uint64_t id, int first, const std::string& port) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    it->second.answered = true;
    const std::string go = path(id, "go");
    {
        std::ofstream out(go + ".part");
        if (first < 0)
            out << "cancel\n";
        else
            out << first << " " << port << "\n";
    }
    std::error_code ec;
    std::filesystem::rename(go + ".part", go, ec);
    if (ec) log().warn("satellites: cannot write {}: {}", go, ec.message());
}

bool satellite_jobs::server_answers(std::chrono::milliseconds timeout) const {
    // The contact reads "JOBID.0;tcp://ADDRESS[,ADDRESS...]:PORT[;...]": it answers if any of
    // its addresses takes a connection. One that names no IPv4 address cannot be tried.
    const auto at = s_.server_uri.find("tcp://");
    if (at == std::string::npos) return true;
    const std::string where = s_.server_uri.substr(at + 6, s_.server_uri.find(';', at) - at - 6);
    const auto colon = where.rfind(':');
    if (colon == std::string::npos) return true;
    const auto port = static_cast<std::uint16_t>(std::atoi(where.c_str() + colon + 1));
    std::istringstream addresses(where.substr(0, colon));
    bool tried = false;
    for (std::string a; std::getline(addresses, a, ',');) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        if (inet_pton(AF_INET, a.c_str(), &address.sin_addr) != 1) continue;
        tried = true;
        if (connects(address, timeout)) return true;
    }
    return !tried;
}

bool satellite_jobs::connects(const sockaddr_in& address, std::chrono::milliseconds timeout) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;
    bool answers = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    if (!answers && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int error = 0;
        socklen_t size = sizeof error;
        answers = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
                  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0;
    }
    close(fd);
    return answers;
}

void satellite_jobs::ask_wait() {
    if (test_only_) return;
    std::vector<std::string> argv = {"sbatch", "--test-only"};
    argv.insert(argv.end(), s_.request.options.begin(), s_.request.options.end());
    argv.push_back(s_.run_dir + "/satellite.sh");
    try {
        test_only_ = std::make_unique<child_process>(argv, environment_for_sbatch(),
                                                     s_.run_dir + "/test-only.out");
    } catch (const error& e) {
        log().info("satellites: {} (no queue wait guessed)", e.what());
    }
}

void satellite_jobs::take_squeue(std::vector<event>& out) {
    // "JOBID STATE" lines; a job gone from the list has left the queue.
    std::map<std::string, std::string> state;
    std::istringstream in(read_file(s_.run_dir + "/squeue.out"));
    for (std::string id, st; in >> id >> st;) state[id] = st;
    for (auto& [sat, j] : jobs_) {
        // Only the jobs squeue was asked about (one submitted since is not in its answer).
        if (j.ended || !squeue_asked_.count(j.id)) continue;
        auto it = state.find(j.id);
        // Slurm's final states; any other (pending, running, held, completing, ...) lives on.
        static const std::set<std::string> final_states = {
            "COMPLETED", "CANCELLED", "FAILED",        "TIMEOUT",  "NODE_FAIL",
            "PREEMPTED", "BOOT_FAIL", "OUT_OF_MEMORY", "DEADLINE", "REVOKED"};
        const bool over = it == state.end() || final_states.count(it->second) > 0;
        if (!over) continue;
        j.ended = true;
        out.push_back(
            {event::ended, sat, j.id, 0, it == state.end() ? "left the queue" : it->second, 0});
    }
}

std::vector<satellite_jobs::event> satellite_jobs::poll(clock::time_point now) {
    std::vector<event> out;
    out.swap(pending_);
    for (auto& [id, j] : jobs_) {
        if (j.sbatch) {
            auto how = j.sbatch->ended();
            if (!how && now - j.submitted > sbatch_deadline) {
                j.sbatch->end(1000);
                how = "did not answer within " + std::to_string(sbatch_deadline.count()) + " s";
            }
            if (!how) continue;
            j.sbatch.reset();
            const std::string said = sbatch_said(id);
            const std::string job_id = job_id_in(said);
            if (*how != "exited with 0" || job_id.empty()) {
                j.ended = true;
                out.push_back(
                    {event::submit_failed, id, {}, 0, said.empty() ? "sbatch " + *how : said, 0});
                continue;
            }
            j.id = job_id;
            out.push_back({event::submitted, id, j.id, 0, {}, 0});
            if (j.cancel_wanted) run_in_background({"scancel", j.id});
        }
        if (!j.started && !j.ended && !j.id.empty()) {
            struct stat st {};
            if (stat(path(id, "started").c_str(), &st) == 0) {
                std::istringstream in(read_file(path(id, "started")));
                std::string job_id;
                int tasks = 0;
                in >> job_id >> tasks;
                // Another job's (a submission whose answer was lost, with the same number).
                if (job_id != j.id) continue;
                j.started = true;
                if (j.cancel_wanted)
                    answer(id, -1, {});
                else
                    out.push_back({event::started, id, j.id, std::max(tasks, 1), {}, 0});
            }
        }
    }
    if (test_only_) {
        if (auto how = test_only_->ended()) {
            test_only_.reset();
            const auto seconds = parse_test_only_start(read_file(s_.run_dir + "/test-only.out"),
                                                       static_cast<long long>(std::time(nullptr)));
            if (seconds) out.push_back({event::wait_guess, 0, {}, 0, {}, *seconds});
        }
    }
    if (squeue_ && !squeue_->ended() && now - last_squeue_ > squeue_deadline) {
        log().warn("satellites: squeue did not answer within {} s; asking again later",
                   squeue_deadline.count());
        squeue_->end(1000);
        squeue_.reset();
    }
    if (squeue_) {
        if (squeue_->ended()) {
            // A failed squeue (the controller busy or down) says nothing about the jobs; but
            // asked about one job Slurm has forgotten, it fails saying so: that job has left.
            const bool ok =
                *squeue_->ended() == "exited with 0" ||
                read_file(s_.run_dir + "/squeue.out").find("Invalid job id") != std::string::npos;
            squeue_.reset();
            if (ok) take_squeue(out);
        }
    } else if (now - last_squeue_ >= squeue_every) {
        std::string ids;
        squeue_asked_.clear();
        for (auto& [id, j] : jobs_)
            if (!j.id.empty() && !j.ended) {
                ids += (ids.empty() ? "" : ",") + j.id;
                squeue_asked_.insert(j.id);
            }
        if (!ids.empty()) {
            last_squeue_ = now;
            try {
                squeue_ = std::make_unique<child_process>(
                    std::vector<std::string>{"squeue", "--noheader", "--states=all",
                                             "--jobs=" + ids, "--format=%i %T"},
                    environment_for_sbatch(), s_.run_dir + "/squeue.out");
            } catch (const error& e) {
                log().warn("satellites: {}", e.what());
            }
        }
    }
    reap_helpers();
    for (auto it = jobs_.begin(); it != jobs_.end();)
        it = it->second.ended ? jobs_.erase(it) : std::next(it);
    return out;
}

void satellite_jobs::stop_queued() {
    // Those answered run workers, which end with the run.
    for (auto& [id, j] : jobs_)
        if (!j.answered) cancel(id);
}

void satellite_jobs::finish(clock::time_point deadline, const std::vector<std::uint64_t>& stuck) {
    for (const auto id : stuck) cancel(id);
    for (auto& [id, j] : jobs_) {
        if (j.ended || !j.sbatch) continue;
        // Still submitting: its answer names the job to cancel.
        while (!j.sbatch->ended() && clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        j.sbatch->end(100);
        j.sbatch.reset();
        j.id = job_id_in(sbatch_said(id));
        if (j.id.empty()) continue;
        answer(id, -1, {});  // should it start meanwhile
        run_in_background({"scancel", j.id});
    }
    // A job of this run still pending whose submission never answered (sbatch stopped at its
    // deadline) is known only by its name.
    run_in_background({"scancel", "--state=PENDING", "--name=" + s_.job_name});
    for (reap_helpers(); !helpers_.empty() && clock::now() < deadline; reap_helpers())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace tide::detail
