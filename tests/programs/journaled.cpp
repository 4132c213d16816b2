// A campaign of tasks for the journal's tests: task i sleeps, appends "i" to a side file (so a
// test can count what really ran, in every run), and returns a value computed by a nested child
// (which the journal must not record). The driver checks every result.
//   tide_journaled TASKS SLEEP_MS SIDE_FILE [fail=K | unordered]
// A %j in SIDE_FILE is the Slurm job's id (each job of a chain has its own side file).
// fail=K: tasks whose number is a multiple of K throw (failed tasks are not journaled).
// unordered: submits a task taking a std::unordered_map (a journal must refuse it).

#include <fcntl.h>
#include <unistd.h>

#include <tide/tide.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

namespace {
// Read from the command line on every rank, before tide::run: workers run the tasks.
int sleep_ms = 0;
std::string side_file;
int fail_every = 0;
}  // namespace

long child_value(long i) { return i * i + 7; }
TIDE_TASK(child_value);

long campaign_task(long i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    const std::string line = std::to_string(i) + "\n";
    // One write per line on an O_APPEND descriptor: lines of concurrent workers never mix.
    const int fd = ::open(side_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        throw std::runtime_error("cannot append to " + side_file);
    ::close(fd);
    if (fail_every > 0 && i % fail_every == 0) throw std::runtime_error("failing on purpose");
    return tide::submit(child_value, i).get();
}
TIDE_TASK(campaign_task);

int count_keys(std::unordered_map<std::string, int> m) { return static_cast<int>(m.size()); }
TIDE_TASK(count_keys);

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: tide_journaled TASKS SLEEP_MS SIDE_FILE [fail=K | unordered]\n";
        return 2;
    }
    const long tasks = std::atol(argv[1]);
    sleep_ms = std::atoi(argv[2]);
    side_file = argv[3];
    if (const auto at = side_file.find("%j"); at != std::string::npos)
        side_file.replace(at, 2, std::getenv("SLURM_JOB_ID") ? std::getenv("SLURM_JOB_ID") : "");
    const std::string mode = argc > 4 && argv[4][0] != '-' ? argv[4] : "";
    if (mode.rfind("fail=", 0) == 0) fail_every = std::atoi(mode.c_str() + 5);
    return tide::run(argc, argv, [&](tide::driver& d) -> int {
        if (mode == "unordered") {
            try {
                d.submit(count_keys, std::unordered_map<std::string, int>{{"a", 1}}).get();
            } catch (const tide::error& e) {
                std::cout << "refused: " << e.what() << std::endl;
                return 3;
            }
            return 0;
        }
        std::vector<long> ids(static_cast<std::size_t>(tasks));
        for (long i = 0; i < tasks; ++i) ids[static_cast<std::size_t>(i)] = i;
        auto futures = d.submit_all(campaign_task, ids);
        long right = 0, failed = 0, wrong = 0;
        for (long i = 0; i < tasks; ++i) {
            try {
                if (futures[static_cast<std::size_t>(i)].get() == i * i + 7)
                    ++right;
                else
                    ++wrong;
            } catch (const tide::task_error&) {
                ++failed;
            }
        }
        const auto s = d.stats();
        std::cout << tasks << " tasks: " << right << " results right, " << wrong << " wrong, "
                  << failed << " failed; resumed " << s.resumed << ", journal recorded "
                  << s.journal_recorded << std::endl;
        return wrong == 0 ? 0 : 1;
    });
}
