#include "platform/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>

#include "tide/error.hpp"

extern char** environ;

namespace tide::detail {

namespace {

std::string how_it_ended(int status) {
    if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "ended (status " + std::to_string(status) + ")";
}

}  // namespace

child_process::child_process(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env, const std::string& output) {
    std::vector<char*> args, vars;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& v : env) vars.push_back(const_cast<char*>(v.c_str()));
    vars.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // A process group of its own: end() reaches what it starts, and a terminal's ^C reaches
    // rank 0 alone, which then ends its groups in order.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    if (!output.empty()) {
        posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, output.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
    }
    const int rc = posix_spawnp(&pid_, args[0], &files, &attr, args.data(), vars.data());
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw error("tide: cannot start '" + argv[0] + "': " + std::string(std::strerror(rc)));
}

std::optional<std::string> child_process::ended() {
    if (ended_ || pid_ <= 0) return ended_;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) ended_ = how_it_ended(status);
    return ended_;
}

void child_process::end(int grace_ms) {
    if (pid_ <= 0 || ended()) return;
    kill(-pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (!ended() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (ended()) return;
    kill(-pid_, SIGKILL);
    int status = 0;
    if (waitpid(pid_, &status, 0) == pid_) ended_ = how_it_ended(status);
}

std::string shell_word(const std::string& word) {
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::vector<std::string> environment_for_a_launcher() {
    // Open MPI settings that mpirun gives its ranks for this job only.
    constexpr std::string_view job_settings[] = {"OMPI_MCA_orte_",
                                                 "OMPI_MCA_ess",
                                                 "OMPI_MCA_pmix",
                                                 "OMPI_MCA_mpi_oversubscribe",
                                                 "OMPI_MCA_shmem_RUNTIME_QUERY_hint",
                                                 "OMPI_MCA_initial_wdir"};
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        const auto starts = [&](std::string_view p) { return entry.substr(0, p.size()) == p; };
        if (starts("PMIX_")) continue;
        if (starts("OMPI_") && !starts("OMPI_MCA_") && !starts("OMPI_ALLOW_RUN_AS_ROOT")) continue;
        bool job_only = false;
        for (const auto p : job_settings) job_only = job_only || starts(p);
        if (!job_only) env.emplace_back(entry);
    }
    return env;
}

}  // namespace tide::detail
