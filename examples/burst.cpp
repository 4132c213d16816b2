// The elastic main job: work in phases — quiet, a burst of many short tasks, quiet, a bigger
// burst, quiet — so the pool parks its idle workers and wakes them when a burst arrives.
// Prints the pool as it goes and a closing summary.
//   mpirun -n 4 build/examples/burst --tide-min-workers=1 --tide-idle-park=1
//   build/examples/burst [first_burst_tasks] [second_burst_tasks] [task_ms] [quiet_s]

#include <unistd.h>
#include <tide/tide.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using clock_type = std::chrono::steady_clock;

double now_s() {
    return std::chrono::duration<double>(clock_type::now().time_since_epoch()).count();
}

struct done_task {
    std::uint64_t value = 0;
    int pid = 0;
    double started = 0;  // steady clock, shared by the processes of a host
    template <class A>
    void serialize(A& ar) {
        ar(value, pid, started);
    }
};

// A few milliseconds of real work (spinning, not sleeping), then the square of x.
done_task work(std::uint64_t x, int ms) {
    done_task d{x * x, static_cast<int>(getpid()), now_s()};
    const auto until = clock_type::now() + std::chrono::milliseconds(ms);
    volatile std::uint64_t sink = 0;
    while (clock_type::now() < until) sink = sink + 1;
    return d;
}
TIDE_TASK(work);

namespace {

std::size_t parked(const tide::load_snapshot& s) {
    return static_cast<std::size_t>(
        std::count_if(s.workers.begin(), s.workers.end(), [](const auto& w) { return w.parked; }));
}

// Waits `seconds`, printing the pool whenever it changes; returns when every worker beyond
// the minimum is parked (seconds after the start of the wait), or -1.
double quiet(tide::driver& d, double seconds, double since) {
    const auto end = clock_type::now() + std::chrono::duration<double>(seconds);
    std::size_t last = static_cast<std::size_t>(-1);
    double all_parked_at = -1;
    const double start = now_s();
    while (clock_type::now() < end) {
        const auto s = d.load();
        const auto p = parked(s);
        if (p != last) {
            std::printf("  t=%6.2f s  workers active %zu, parked %zu\n", now_s() - since,
                        s.workers.size() - p, p);
            last = p;
        }
        if (all_parked_at < 0 && p > 0 && p == s.workers.size() - 1)
            all_parked_at = now_s() - start;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return all_parked_at;
}

struct burst_report {
    std::size_t tasks;
    double seconds;
    std::size_t processes;
    double first_woken_task_s;  // from submission to the first task of a worker parked before
};

burst_report burst(tide::driver& d, std::size_t n, int task_ms, std::uint64_t first_value) {
    // Which processes were working before the burst: the rest were parked.
    const auto before = d.load();
    std::vector<std::uint64_t> xs(n);
    for (std::size_t i = 0; i < n; ++i) xs[i] = first_value + i;
    const double submitted = now_s();
    std::vector<std::tuple<std::uint64_t, int>> args;
    for (auto x : xs) args.emplace_back(x, task_ms);
    const auto results = d.map(work, args);
    const double seconds = now_s() - submitted;
    std::set<int> pids;
    std::vector<std::pair<double, int>> starts;
    for (std::size_t i = 0; i < n; ++i) {
        if (results[i].value != xs[i] * xs[i]) {
            std::printf("wrong result for task %zu\n", i);
            std::exit(1);
        }
        pids.insert(results[i].pid);
        starts.emplace_back(results[i].started, results[i].pid);
    }
    // The first start of each process; the processes that started last were the parked ones.
    std::sort(starts.begin(), starts.end());
    std::set<int> seen;
    std::vector<double> firsts;
    for (const auto& [t, pid] : starts)
        if (seen.insert(pid).second) firsts.push_back(t - submitted);
    const std::size_t were_parked = parked(before);
    const double woken = were_parked > 0 && firsts.size() > firsts.size() - were_parked
                             ? firsts[firsts.size() - were_parked]
                             : -1;
    return {n, seconds, pids.size(), woken};
}

}  // namespace

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) {
        const auto& a = d.args();
        const std::size_t first = a.size() > 1 ? std::stoul(a[1]) : 400;
        const std::size_t second = a.size() > 2 ? std::stoul(a[2]) : 1200;
        const int task_ms = a.size() > 3 ? std::stoi(a[3]) : 5;
        const double quiet_s = a.size() > 4 ? std::stod(a[4]) : 2.5;
        const double start = now_s();
        std::printf(
            "burst: %d worker(s); phases: quiet %.1f s, %zu tasks of %d ms, quiet, %zu "
            "tasks, quiet\n",
            d.workers(), quiet_s, first, task_ms, second);
        std::vector<double> parked_after;
        parked_after.push_back(quiet(d, quiet_s, start));
        std::vector<burst_report> bursts;
        std::uint64_t next = 1;
        for (std::size_t n : {first, second}) {
            std::printf("  t=%6.2f s  burst of %zu tasks\n", now_s() - start, n);
            bursts.push_back(burst(d, n, task_ms, next));
            next += n;
            parked_after.push_back(quiet(d, quiet_s, start));
        }
        const auto s = d.load();
        std::printf("\nsummary\n");
        std::printf("  tasks            %zu, all results correct\n", first + second);
        std::printf("  makespan         %.2f s\n", now_s() - start);
        for (std::size_t i = 0; i < bursts.size(); ++i) {
            const auto& b = bursts[i];
            std::printf("  burst %zu          %zu tasks in %.3f s on %zu worker(s); ", i + 1,
                        b.tasks, b.seconds, b.processes);
            if (b.first_woken_task_s < 0)
                std::printf("no parked worker was needed (backlog under the target)\n");
            else
                std::printf(
                    "first task of a woken worker %.1f ms after the burst; all idle "
                    "workers parked %.2f s after it ended\n",
                    b.first_woken_task_s * 1e3, parked_after[i + 1]);
        }
        std::printf("  parks / wakes    %llu / %llu\n",
                    static_cast<unsigned long long>(s.scaling.parks),
                    static_cast<unsigned long long>(s.scaling.wakes));
        std::printf("  %s\n", tide::to_string(s.stealing).c_str());
        return 0;
    });
}
