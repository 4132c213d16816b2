// Where the workers run, seen from outside them: tasks report their process id, and rank 0 reads
// each worker's CPU affinity from /proc/<pid>/status (Cpus_allowed_list), as any tool would.
// Prints "rank0 cpus=LIST" and one "worker pid=P cpus=LIST" line per worker process that ran a
// task; tests/bindings_check.sh judges them.

#include <unistd.h>
#include <tide/tide.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

namespace {

int pid_after_spin(int ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
    }
    return static_cast<int>(getpid());
}
TIDE_TASK(pid_after_spin);

std::string cpus_of(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Cpus_allowed_list:", 0) == 0) {
            const auto v = line.find_first_not_of(" \t", line.find(':') + 1);
            return line.substr(v);
        }
    return "?";
}

}  // namespace

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        // Enough work for every worker, long enough for them all to have been placed.
        const auto pids = d.map(pid_after_spin, std::vector<int>(200, 3));
        std::printf("rank0 cpus=%s\n", cpus_of(static_cast<int>(getpid())).c_str());
        for (int pid : std::set<int>(pids.begin(), pids.end()))
            std::printf("worker pid=%d cpus=%s\n", pid, cpus_of(pid).c_str());
        return 0;
    });
}
