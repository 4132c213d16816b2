// The elastic main job: work in phases — quiet, a burst of many short tasks, quiet, a bigger
// burst, quiet — so the pool spawns or wakes workers when a burst arrives, parks them when it
// is over and retires spawned ones parked long enough. Prints the pool as it goes and a
// closing summary.
//   build/examples/burst --tide-max-workers=3                 (a singleton that spawns)
//   mpirun -n 4 build/examples/burst --tide-min-workers=1     (started ranks, parked and woken)
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

std::string pool_text(const tide::pool_counts& p) {
    return "active " + std::to_string(p.active) + ", parked " + std::to_string(p.parked) +
           ", starting " + std::to_string(p.starting);
}

bool operator!=(const tide::pool_counts& a, const tide::pool_counts& b) {
    return a.active != b.active || a.parked != b.parked || a.starting != b.starting;
}

struct quiet_report {
    double last_park_s = -1;  // when the last worker parked, seconds into the quiet phase
};

// Waits `seconds`, printing the pool whenever it changes.
quiet_report quiet(tide::driver& d, double seconds, double since) {
    const auto end = clock_type::now() + std::chrono::duration<double>(seconds);
    tide::pool_counts last{~std::size_t{0}, 0, 0};
    quiet_report r;
    const double start = now_s();
    while (clock_type::now() < end) {
        const auto p = d.load().pool;
        if (p != last) {
            std::printf("  t=%6.2f s  workers %s\n", now_s() - since, pool_text(p).c_str());
            if (last.active != ~std::size_t{0} && p.parked > last.parked)
                r.last_park_s = now_s() - start;
            last = p;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return r;
}

struct burst_report {
    std::size_t tasks;
    double seconds;
    std::size_t processes;
    std::size_t active_before;  // workers active when the burst arrived
    double first_new_task_s;    // submission to the first task of a worker not active before
};

burst_report burst(tide::driver& d, std::size_t n, int task_ms, std::uint64_t first_value) {
    const std::size_t active_before = d.load().pool.active;
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
    // The first start of each process: those beyond the ones already active were woken or
    // spawned for this burst.
    std::sort(starts.begin(), starts.end());
    std::set<int> seen;
    std::vector<double> firsts;
    for (const auto& [t, pid] : starts)
        if (seen.insert(pid).second) firsts.push_back(t - submitted);
    const double first_new = firsts.size() > active_before ? firsts[active_before] : -1;
    return {n, seconds, pids.size(), active_before, first_new};
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
            "burst: %d worker(s) started; phases: quiet %.1f s, %zu tasks of %d ms, quiet, %zu "
            "tasks, quiet\n",
            d.workers(), quiet_s, first, task_ms, second);
        std::vector<quiet_report> quiets;
        quiets.push_back(quiet(d, quiet_s, start));
        std::vector<burst_report> bursts;
        std::uint64_t next = 1;
        for (std::size_t n : {first, second}) {
            std::printf("  t=%6.2f s  burst of %zu tasks\n", now_s() - start, n);
            bursts.push_back(burst(d, n, task_ms, next));
            next += n;
            quiets.push_back(quiet(d, quiet_s, start));
        }
        const auto s = d.load();
        const auto count = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
        std::printf("\nsummary\n");
        std::printf("  tasks            %zu, all results correct\n", first + second);
        std::printf("  makespan         %.2f s\n", now_s() - start);
        for (std::size_t i = 0; i < bursts.size(); ++i) {
            const auto& b = bursts[i];
            std::printf(
                "  burst %zu          %zu tasks in %.3f s on %zu worker(s), %zu active "
                "before; ",
                i + 1, b.tasks, b.seconds, b.processes, b.active_before);
            if (b.first_new_task_s < 0)
                std::printf("no new worker was needed\n");
            else
                std::printf("first task of a new worker %.1f ms after the burst\n",
                            b.first_new_task_s * 1e3);
            if (quiets[i + 1].last_park_s >= 0)
                std::printf("                   idle workers parked %.2f s after it ended\n",
                            quiets[i + 1].last_park_s);
        }
        std::printf("  workers now      %s\n", pool_text(s.pool).c_str());
        std::printf("  spawns           %llu worker(s), median %.3f s; %llu failed (%llu hung)\n",
                    count(s.scaling.spawned), s.scaling.spawn_median_seconds,
                    count(s.scaling.spawn_failures), count(s.scaling.spawns_hung));
        std::printf("  parks / wakes    %llu / %llu\n", count(s.scaling.parks),
                    count(s.scaling.wakes));
        std::printf("  retires          %llu\n", count(s.scaling.retired));
        std::printf("  workers lost     %llu, tasks run again %llu\n", count(s.workers_lost),
                    count(s.tasks_rerun));
        std::printf("  %s\n", tide::to_string(s.stealing).c_str());
        return 0;
    });
}
