// Bulk submissions under worker loss (run under mpirun --enable-recovery, with a worker killed
// mid-run by tests/kill_rank.sh, or with none):
//   tide_bulk N SPIN_NS
// 1. maps a task that spins SPIN_NS over 0..N-1 (ranges of many tasks) and checks every result,
//    in order;
// 2. submits N tasks with submit_all, of which the one at N/2 + 7 (inside a range) segfaults
//    its worker on its first try, and checks every future: that task's after its second try,
//    and every other one's exactly;
// 3. checks the run's counts: every task counted once as done, none failed.
// Prints one line per step.

#include <signal.h>
#include <unistd.h>
#include <tide/tide.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "try_count.hpp"

namespace {

std::uint64_t spin(std::uint64_t i, std::uint64_t ns) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
    while (std::chrono::steady_clock::now() < until) {
    }
    return 3 * i + 1;
}
TIDE_TASK(spin);

std::uint64_t poisoned(std::uint64_t i, std::uint64_t target, std::string file) {
    if (i == target && count_try(file) == 1) raise(SIGSEGV);
    return 3 * i + 1;
}
TIDE_TASK(poisoned);

}  // namespace

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) -> int {
        if (d.args().size() != 3) {
            std::fprintf(stderr, "usage: tide_bulk N SPIN_NS\n");
            return 2;
        }
        const auto n = std::stoull(d.args()[1]);
        const auto ns = std::stoull(d.args()[2]);
        std::vector<std::tuple<std::uint64_t, std::uint64_t>> spins;
        for (std::uint64_t i = 0; i < n; ++i) spins.emplace_back(i, ns);
        const auto out = d.map(spin, spins);
        for (std::uint64_t i = 0; i < n; ++i)
            if (out.size() != n || out[i] != 3 * i + 1) {
                std::printf("bulk map: wrong result at %llu\n", static_cast<unsigned long long>(i));
                return 1;
            }
        std::printf("bulk map: %llu results exact and in order\n",
                    static_cast<unsigned long long>(n));

        char dir[] = "/tmp/tide-bulk-XXXXXX";
        if (!mkdtemp(dir)) return 2;
        const std::string file = std::string(dir) + "/poisoned";
        const std::uint64_t target = n / 2 + 7;
        std::vector<std::tuple<std::uint64_t, std::uint64_t, std::string>> calls;
        for (std::uint64_t i = 0; i < n; ++i) calls.emplace_back(i, target, file);
        auto futures = d.submit_all(poisoned, calls);
        for (std::uint64_t i = 0; i < n; ++i)
            if (futures[i].get() != 3 * i + 1) {
                std::printf("bulk futures: wrong result at %llu\n",
                            static_cast<unsigned long long>(i));
                return 1;
            }
        const int tries = count_try(file) - 1;
        unlink(file.c_str());
        rmdir(dir);
        std::printf("bulk futures: %llu results exact, the poisoned task ran %d time(s)\n",
                    static_cast<unsigned long long>(n), tries);

        const auto s = d.stats();
        std::printf("counted: %llu done, %llu failed of %llu submitted; tasks run again %llu\n",
                    static_cast<unsigned long long>(s.ok),
                    static_cast<unsigned long long>(s.failed),
                    static_cast<unsigned long long>(s.submitted),
                    static_cast<unsigned long long>(d.load().tasks_rerun));
        return 0;
    });
}
