// Tasks that kill their worker, for the worker-loss tests (run under mpirun --enable-recovery).
//   crash
// 1. flaky: segfaults on its first two tries, succeeds on the third (tries are counted in a
//    file under a fresh directory in /tmp, since each try is a new process);
// 2. quits: calls exit(3) on its first try, succeeds on the next; aborts: the same with abort();
// 3. doomed: segfaults every time: its future throws tide::worker_lost after the retries;
// and 100 ordinary tasks around them, each checked. Prints one line per outcome.

#include <signal.h>
#include <unistd.h>
#include <tide/tide.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "try_count.hpp"

namespace {

int flaky(std::string file, int fail_tries) {
    const int tries = count_try(file);
    if (tries <= fail_tries) raise(SIGSEGV);
    return tries;
}
TIDE_TASK(flaky);

int quits(std::string file) {
    const int tries = count_try(file);
    if (tries == 1) std::exit(3);
    return tries;
}
TIDE_TASK(quits);

int aborts(std::string file) {
    const int tries = count_try(file);
    if (tries == 1) std::abort();
    return tries;
}
TIDE_TASK(aborts);

long square(long x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return x * x;
}
TIDE_TASK(square);

}  // namespace

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) -> int {
        char dir_template[] = "/tmp/tide-crash-XXXXXX";
        if (!mkdtemp(dir_template)) {
            std::perror("crash: mkdtemp");
            return 2;
        }
        const std::string dir = dir_template;
        auto check_squares = [&](const char* when) {
            std::vector<long> xs;
            for (long x = 0; x < 50; ++x) xs.push_back(x);
            const auto ys = d.map(square, xs);
            for (long x = 0; x < 50; ++x)
                if (ys[static_cast<std::size_t>(x)] != x * x) {
                    std::printf("wrong square %ld %s\n", x, when);
                    std::exit(1);
                }
            std::printf("50 squares correct %s\n", when);
        };
        auto flaky_result = d.submit(flaky, dir + "/flaky", 2);
        check_squares("beside the flaky task");
        std::printf("flaky task returned after %d tries\n", flaky_result.get());
        std::printf("quitting task returned after %d tries\n",
                    d.submit(quits, dir + "/quits").get());
        std::printf("aborting task returned after %d tries\n",
                    d.submit(aborts, dir + "/aborts").get());
        try {
            d.submit(flaky, dir + "/doomed", 1000).get();
            std::printf("doomed task returned\n");
        } catch (const tide::worker_lost& e) {
            std::printf("doomed task: worker_lost: %s\n", e.what());
        }
        check_squares("after the doomed task");
        for (const char* f : {"/flaky", "/quits", "/aborts", "/doomed"}) unlink((dir + f).c_str());
        rmdir(dir.c_str());
        const auto load = d.load();
        std::printf("workers lost %llu, tasks rerun %llu\n",
                    static_cast<unsigned long long>(load.workers_lost),
                    static_cast<unsigned long long>(load.tasks_rerun));
        return 0;
    });
}
