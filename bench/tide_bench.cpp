// tide-bench: dispatch overhead of tide, one result line per run:
//   name=<bench> tasks=<N> workers=<W> seconds=<S> rate=<tasks/s> <extra k=v ...>
// Sub-commands (after any --tide-* flags):
//   throughput --tasks N [--payload BYTES] [--via map|submit_all|submit]
//                                            N no-op tasks in one map (or submit_all and a
//                                            get() each, or one submit each), results checked
//   latency --tasks N                        one task at a time: submit, then get()
//   latency --task-us L1,L2,... [--idle S]   one task in flight spinning L us, submit then
//                                            get(): overhead (round trip - L) per length (with
//                                            two workers first a parent's get() of a stolen
//                                            child, for L >= 5 ms); then
//                                            the CPU of an idle rank 0 and idle and parked
//                                            workers over S seconds each (run with
//                                            --tide-min-workers=0 and --tide-idle-park > S)
//   granularity --task-us T [--tasks N]      tasks spinning T us; efficiency = ideal / measured
//   chains --chains C --links L --bytes B    C chains of L tasks, each taking the result (B
//                                            bytes) of the one before: with B above
//                                            --tide-keep-results they stay on the workers; the
//                                            line says how many bytes crossed rank 0 (compare a
//                                            run with --tide-keep-results=0)
//   spawns --rounds R [--burst N --task-ms M] R bursts of N tasks of M ms, each growing the
//                                            pool from nothing (by spawning, or with
//                                            --tide-satellites by satellites) and waiting
//                                            until it has retired again (scripts/bench-spawn
//                                            and scripts/bench-satellites run it)
// Every sub-command takes --repeat R and reports the median run (with the fastest and
// slowest), since this machine is shared and noisy.

#include <tide/tide.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::uint64_t noop(std::uint64_t x) { return x; }
TIDE_TASK(noop);

std::uint64_t noop_payload(const std::vector<std::uint8_t>& payload) { return payload.size(); }
TIDE_TASK(noop_payload);
// A link of a chain: the bytes of the link before, the first one counting the links.
std::vector<std::uint8_t> next_link(const std::vector<std::uint8_t>& before) {
    std::vector<std::uint8_t> out(before);
    ++out[0];
    return out;
}
TIDE_TASK(next_link);

// A time on the steady clock in seconds: CLOCK_MONOTONIC, one clock for all processes of a host,
// so times taken in a task and in the driver compare.
double seconds_at(clock_type::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Busy-waits (not sleeps) for `us` microseconds, as a compute task would occupy its core;
// returns when it ended.
clock_type::time_point busy_for(clock_type::time_point start, std::uint64_t us) {
    const auto end = start + std::chrono::microseconds(us);
    auto now = start;
    while (now < end) now = clock_type::now();
    return now;
}

std::uint64_t spin(std::uint64_t us) {
    busy_for(clock_type::now(), us);
    return us;
}
TIDE_TASK(spin);

// spin, returning when it started and ended: a wait's overhead splits into the way there and
// the way back.
std::pair<double, double> timed_spin(std::uint64_t us) {
    const auto start = clock_type::now();
    return {seconds_at(start), seconds_at(busy_for(start, us))};
}
TIDE_TASK(timed_spin);

// A child task spinning `us`: where it ran, and when it ended.
std::pair<int, double> child_spin(std::uint64_t us) {
    return {static_cast<int>(getpid()), seconds_at(busy_for(clock_type::now(), us))};
}
TIDE_TASK(child_spin);

// A parent that submits a child spinning `us`, then computes as long itself, meanwhile an idle
// worker steals the child. Returns whether the child ran in another process, when it ended, and
// when this task's get() returned its result.
std::tuple<bool, double, double> parent_of_stolen(std::uint64_t us) {
    auto child = tide::submit(child_spin, us);
    busy_for(clock_type::now(), us);
    const auto [pid, end] = child.get();
    return {pid != static_cast<int>(getpid()), end, seconds_at(clock_type::now())};
}
TIDE_TASK(parent_of_stolen);

// The median (the upper one of an even count).
double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// What the machine itself adds to a wait after a long task: microseconds to walk 256 KB of data
// (4096 cache lines in a random cycle, so no prefetcher helps) right after spinning `us`
// microseconds on a loop that touches none of it (median of 5). A task's end runs code and data
// the worker has not touched for the task's length either; on a shared virtual machine other
// tenants evict them meanwhile, so the way back costs more after a long task.
double walk_after_spin_us(std::uint64_t us) {
    constexpr std::size_t lines = 4096, stride = 64 / sizeof(std::size_t);
    static const std::vector<std::size_t> next = [] {
        std::vector<std::size_t> order(lines);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::shuffle(order.begin(), order.end(), std::mt19937(1));
        std::vector<std::size_t> cycle(lines * stride);
        for (std::size_t i = 0; i < lines; ++i)
            cycle[order[i] * stride] = order[(i + 1) % lines] * stride;
        return cycle;
    }();
    std::vector<double> walk_us;
    for (int i = 0; i < 5; ++i) {
        const auto start = busy_for(clock_type::now(), us);
        volatile std::size_t at = 0;
        for (std::size_t k = 0; k < lines; ++k) at = next[at];
        walk_us.push_back(
            std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    }
    return median_of(walk_us);
}

struct timing {
    double median = 0, fastest = 0, slowest = 0;
};

// Runs `once` (which returns its own measured seconds) `repeat` times.
timing measure(int repeat, const std::function<double()>& once) {
    std::vector<double> s;
    for (int i = 0; i < repeat; ++i) s.push_back(once());
    std::sort(s.begin(), s.end());
    return {s[s.size() / 2], s.front(), s.back()};
}

double since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

void report(const char* name, std::uint64_t tasks, int workers, const timing& t,
            const std::string& extra) {
    std::printf(
        "name=%s tasks=%llu workers=%d seconds=%.6f rate=%.0f runs_fastest=%.6f "
        "runs_slowest=%.6f%s%s\n",
        name, static_cast<unsigned long long>(tasks), workers, t.median,
        static_cast<double>(tasks) / t.median, t.fastest, t.slowest, extra.empty() ? "" : " ",
        extra.c_str());
    std::fflush(stdout);
}

[[noreturn]] void fail(const std::string& why) { throw std::runtime_error("tide-bench: " + why); }

}  // namespace

// The task's process and when it started (see seconds_at).
std::pair<int, double> pid_and_start(int ms) {
    const double start = seconds_at(clock_type::now());
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return {static_cast<int>(getpid()), start};
}
TIDE_TASK(pid_and_start);

// CPU seconds a process's threads have used, to the nanosecond: the first field of each
// thread's /proc/<pid>/task/<tid>/schedstat (/proc/<pid>/stat counts in 10 ms ticks, too coarse
// for a rank that idles at 1% of a core). Threads that exited are not counted.
double process_cpu(int pid) {
    double ns = 0;
    for (const auto& thread :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream in(thread.path() / "schedstat");
        double on_cpu = 0;
        if (in >> on_cpu) ns += on_cpu;
    }
    return ns * 1e-9;
}

// The worker processes, from tasks that take long enough for every worker to get some.
std::set<int> worker_pids(tide::driver& d, int workers) {
    std::set<int> pids;
    for (const auto& [pid, start] : d.map(pid_and_start, std::vector<int>(workers * 8, 10)))
        pids.insert(pid);
    return pids;
}

// Per cent of a core each process used over `seconds` from now (rank 0 is this process).
std::map<int, double> cpu_over(const std::set<int>& pids, double seconds) {
    std::map<int, double> before;
    for (int pid : pids) before[pid] = process_cpu(pid);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    std::map<int, double> pct;
    for (int pid : pids) pct[pid] = (process_cpu(pid) - before[pid]) / seconds * 100;
    return pct;
}

std::size_t parked_count(tide::driver& d) {
    std::size_t n = 0;
    for (const auto& w : d.load().workers) n += w.parked;
    return n;
}

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) -> int {
        CLI::App app{"tide dispatch benchmarks", "tide-bench"};
        app.require_subcommand(1);
        app.fallthrough();  // --repeat may follow the sub-command
        std::uint64_t tasks = 100000, payload = 0, task_us = 50;
        int repeat = 5;
        auto* throughput = app.add_subcommand("throughput", "N no-op tasks in one bulk submission");
        throughput->add_option("--tasks", tasks)->check(CLI::PositiveNumber);
        throughput->add_option("--payload", payload, "argument bytes per task");
        std::string via = "map";
        throughput->add_option("--via", via, "how the tasks are submitted")
            ->check(CLI::IsMember({"map", "submit_all", "submit"}));
        auto* latency = app.add_subcommand("latency", "one task at a time, submit then get()");
        latency->add_option("--tasks", tasks)->check(CLI::PositiveNumber);
        std::vector<std::uint64_t> lengths_us;
        latency->add_option("--task-us", lengths_us, "task lengths to sweep, one task in flight")
            ->delimiter(',');
        double idle_s = 1;
        latency->add_option("--idle", idle_s, "seconds over which idle CPU is measured");
        auto* granularity = app.add_subcommand("granularity", "tasks spinning T us each");
        auto* wake = app.add_subcommand(
            "wake",
            "CPU of parked workers, then how soon a burst has every worker working "
            "(run with --tide-min-workers below the workers and a short --tide-idle-park)");
        double wake_idle_s = 3;
        wake->add_option("--idle", wake_idle_s,
                         "seconds over which parked workers' CPU is measured");
        int rounds = 10;
        auto* spawns = app.add_subcommand(
            "spawns",
            "R bursts that each spawn the pool anew (run with --tide-max-workers=G, a short "
            "--tide-target-backlog, --tide-idle-park=0 and --tide-idle-retire=0)");
        spawns->add_option("--rounds", rounds)->check(CLI::PositiveNumber);
        int burst_tasks = 16, burst_task_ms = 20;
        spawns->add_option("--burst", burst_tasks, "tasks a burst")->check(CLI::PositiveNumber);
        spawns->add_option("--task-ms", burst_task_ms, "milliseconds a task")
            ->check(CLI::PositiveNumber);
        auto* chains = app.add_subcommand("chains", "chains of tasks passing large results on");
        std::uint64_t chain_count = 4, links = 100, link_bytes = 1 << 20;
        chains->add_option("--chains", chain_count)->check(CLI::Range(1, 1 << 20));
        chains->add_option("--links", links)->check(CLI::Range(1, 250));
        chains->add_option("--bytes", link_bytes)->check(CLI::Range(1, 1 << 30));
        granularity->add_option("--task-us", task_us)->check(CLI::PositiveNumber);
        granularity->add_option("--tasks", tasks)->check(CLI::PositiveNumber);
        app.add_option("--repeat", repeat, "runs; the median is reported")
            ->check(CLI::Range(1, 1000));
        int wait_for = 0;
        app.add_option("--workers", wait_for,
                       "first wait (up to 60 s) until this many workers are in the pool: a run "
                       "whose workers join it (--tide-nodes) starts with none")
            ->check(CLI::Range(0, 1 << 20));
        std::vector<std::string> args(d.args().rbegin(), d.args().rend() - 1);  // CLI11 order
        try {
            app.parse(args);
        } catch (const CLI::ParseError& e) {
            return app.exit(e);
        }
        for (const auto until = clock_type::now() + std::chrono::seconds(60);
             d.workers() < wait_for && clock_type::now() < until;)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (d.workers() < wait_for) fail("the workers did not join within 60 s");
        const int workers = d.workers();

        if (throughput->parsed()) {
            std::vector<std::uint64_t> ids(tasks);
            std::iota(ids.begin(), ids.end(), 0);
            // Inputs are built once, outside the timed part.
            const std::vector<std::vector<std::uint8_t>> blobs(
                payload == 0 ? 0 : tasks, std::vector<std::uint8_t>(payload, 1));
            const auto t = measure(repeat, [&] {
                const auto start = clock_type::now();
                if (payload == 0) {
                    std::vector<std::uint64_t> out;
                    if (via == "map") {
                        out = d.map(noop, ids);
                    } else {
                        std::vector<tide::future<std::uint64_t>> fs;
                        if (via == "submit_all") {
                            fs = d.submit_all(noop, ids);
                        } else {
                            fs.reserve(ids.size());
                            for (const auto id : ids) fs.push_back(d.submit(noop, id));
                        }
                        out.reserve(fs.size());
                        for (auto& f : fs) out.push_back(f.get());
                    }
                    const double s = since(start);
                    if (out != ids) fail("wrong results");
                    return s;
                }
                const auto out = d.map(noop_payload, blobs);
                const double s = since(start);
                for (auto n : out)
                    if (n != payload) fail("wrong results");
                return s;
            });
            report("throughput", tasks, workers, t,
                   "payload=" + std::to_string(payload) + " via=" + via);
        } else if (latency->parsed() && !lengths_us.empty()) {
            if (workers < 1) fail("latency --task-us needs a worker");
            const auto pids = worker_pids(d, workers);
            // A task's get() of a child stolen by another worker: the result goes through rank
            // 0, pumped by the waiting driver or, while the driver computes, by its background
            // thread. First, while every worker is active (one task in flight below lets the
            // others park, and a parked worker steals nothing).
            for (const auto us : lengths_us) {
                // A thief comes within about 1-4 ms: shorter children are rarely stolen, and a
                // worker idle for the default 2 s would park and steal nothing more.
                if (workers < 2 || us < 5000) continue;
                for (const bool driver_waits : {true, false}) {
                    const auto tries = std::clamp<std::uint64_t>(
                        1000000 / std::max<std::uint64_t>(us, 1), 10, 200);
                    std::vector<double> overhead_us;
                    for (std::uint64_t i = 0; i < tries; ++i) {
                        auto f = d.submit(parent_of_stolen, us);
                        if (!driver_waits) busy_for(clock_type::now(), 3 * us);
                        const auto [stolen, end, got] = f.get();
                        if (stolen) overhead_us.push_back((got - end) * 1e6);
                    }
                    if (overhead_us.empty()) continue;
                    std::printf(
                        "name=nested_wait task_us=%llu workers=%d driver=%s tries=%llu stolen=%zu "
                        "overhead_median_us=%.1f overhead_max_us=%.1f\n",
                        static_cast<unsigned long long>(us), workers,
                        driver_waits ? "waits" : "computes", static_cast<unsigned long long>(tries),
                        overhead_us.size(), median_of(overhead_us),
                        *std::max_element(overhead_us.begin(), overhead_us.end()));
                    std::fflush(stdout);
                }
            }
            for (const auto us : lengths_us) {
                // About 2 s per length, at least 20 tries; the first has no estimate yet and
                // counts like the rest.
                const auto tries =
                    std::clamp<std::uint64_t>(2000000 / std::max<std::uint64_t>(us, 1), 20, 1000);
                std::vector<double> overhead_us, there_us, back_us;
                for (std::uint64_t i = 0; i < tries; ++i) {
                    const auto submitted = clock_type::now();
                    const auto [start, end] = d.submit(timed_spin, us).get();
                    const auto returned = clock_type::now();
                    overhead_us.push_back(
                        (std::chrono::duration<double>(returned - submitted).count() -
                         (end - start)) *
                        1e6);
                    there_us.push_back((start - seconds_at(submitted)) * 1e6);
                    back_us.push_back((seconds_at(returned) - end) * 1e6);
                }
                const double m = median_of(overhead_us);
                std::printf(
                    "name=wait_overhead task_us=%llu workers=%d tries=%zu overhead_median_us=%.1f "
                    "overhead_max_us=%.1f overhead_pct=%.2f there_median_us=%.1f "
                    "back_median_us=%.1f cold_walk_us=%.1f\n",
                    static_cast<unsigned long long>(us), workers, overhead_us.size(), m,
                    *std::max_element(overhead_us.begin(), overhead_us.end()),
                    us > 0 ? m / static_cast<double>(us) * 100 : 0.0, median_of(there_us),
                    median_of(back_us), walk_after_spin_us(us));
                std::fflush(stdout);
            }
            // Idle: nothing in flight, workers not yet parked; then every worker parked.
            auto all = pids;
            all.insert(static_cast<int>(getpid()));
            const auto idle = cpu_over(all, idle_s);
            const auto deadline = clock_type::now() + std::chrono::seconds(30);
            while (parked_count(d) < static_cast<std::size_t>(workers) &&
                   clock_type::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (parked_count(d) < static_cast<std::size_t>(workers))
                fail("the workers did not park within 30 s (run with --tide-min-workers=0)");
            const auto parked = cpu_over(all, idle_s);
            double idle_worker = 0, parked_worker = 0;
            for (int pid : pids) {
                idle_worker = std::max(idle_worker, idle.at(pid));
                parked_worker = std::max(parked_worker, parked.at(pid));
            }
            std::printf(
                "name=idle_cpu workers=%d seconds=%.1f rank0_idle_pct=%.2f worker_idle_pct=%.2f "
                "rank0_all_parked_pct=%.2f worker_parked_pct=%.2f\n",
                workers, idle_s, idle.at(static_cast<int>(getpid())), idle_worker,
                parked.at(static_cast<int>(getpid())), parked_worker);
            std::fflush(stdout);
        } else if (latency->parsed()) {
            const auto t = measure(repeat, [&] {
                const auto start = clock_type::now();
                for (std::uint64_t i = 0; i < tasks; ++i)
                    if (d.submit(noop, i).get() != i) fail("wrong result");
                return since(start);
            });
            char extra[64];
            std::snprintf(extra, sizeof extra, "us_per_task=%.2f",
                          t.median / static_cast<double>(tasks) * 1e6);
            report("latency", tasks, workers, t, extra);
        } else if (chains->parsed()) {
            const auto before = d.stats();
            const auto t = measure(repeat, [&] {
                const auto start = clock_type::now();
                std::vector<tide::future<std::vector<std::uint8_t>>> ends;
                for (std::uint64_t c = 0; c < chain_count; ++c) {
                    auto f = d.submit(next_link, std::vector<std::uint8_t>(link_bytes, 0));
                    for (std::uint64_t i = 1; i < links; ++i) f = d.submit(next_link, std::move(f));
                    ends.push_back(std::move(f));
                }
                for (auto& f : ends)
                    if (f.get()[0] != links) fail("wrong results");
                return since(start);
            });
            const auto after = d.stats();
            const auto runs = static_cast<std::uint64_t>(repeat);
            // What crossed rank 0 per run: the results that came back, and inputs fetched.
            const double kept = static_cast<double>(after.results_kept - before.results_kept);
            const double returned = static_cast<double>(chain_count * links * runs) - kept;
            const double mb_through_rank0 =
                (returned * static_cast<double>(link_bytes) +
                 static_cast<double>(after.results_fetched_bytes - before.results_fetched_bytes)) /
                1e6 / static_cast<double>(runs);
            char extra[160];
            std::snprintf(extra, sizeof extra,
                          "bytes=%llu kept_per_run=%.0f mb_through_rank0_per_run=%.1f",
                          static_cast<unsigned long long>(link_bytes),
                          kept / static_cast<double>(runs), mb_through_rank0);
            report("chains", chain_count * links, workers, t, extra);
        } else if (wake->parsed()) {
            if (workers < 2) fail("wake needs at least two workers");
            std::vector<double> wake_ms, parked_cpu, active_idle_cpu;
            std::size_t parked = 0;
            const auto t = measure(repeat, [&] {
                // Learn the worker processes, then let the pool go idle and park.
                const auto pids = worker_pids(d, workers);
                const auto deadline = clock_type::now() + std::chrono::seconds(30);
                while (parked_count(d) == 0 && clock_type::now() < deadline)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                parked = parked_count(d);
                if (parked == 0) fail("no worker parked within 30 s");
                // Every worker is idle now, some parked: the least CPU is a parked worker's,
                // the most the active idle one's.
                double least = 1e9, most = 0;
                for (const auto& [pid, pct] : cpu_over(pids, wake_idle_s)) {
                    least = std::min(least, pct);
                    most = std::max(most, pct);
                }
                parked_cpu.push_back(least);
                active_idle_cpu.push_back(most);
                // The burst: when has every process started a task?
                const double submitted = seconds_at(clock_type::now());
                std::map<int, double> first;
                for (const auto& [pid, start] :
                     d.map(pid_and_start, std::vector<int>(workers * 100, 10)))
                    if (!first.count(pid) || start < first[pid]) first[pid] = start;
                if (first.size() != static_cast<std::size_t>(workers))
                    fail("a worker stayed parked");
                double last = 0;
                for (const auto& [pid, start] : first) last = std::max(last, start - submitted);
                wake_ms.push_back(last * 1e3);
                return last;
            });
            char extra[200];
            std::snprintf(extra, sizeof extra,
                          "parked=%zu parked_cpu_pct=%.3f active_idle_cpu_pct=%.3f "
                          "all_working_after_ms=%.1f",
                          parked, median_of(parked_cpu), median_of(active_idle_cpu),
                          median_of(wake_ms));
            report("wake", static_cast<std::uint64_t>(workers) * 100, workers, t, extra);
        } else if (spawns->parsed()) {
            // Each round: work for the whole pool, then nothing until every worker has retired.
            // A spawn that hangs is given up on and its tasks run on rank 0 meanwhile.
            int unretired = 0;
            const auto t = measure(1, [&] {
                const auto start = clock_type::now();
                for (int r = 0; r < rounds; ++r) {
                    const auto out = d.map(
                        pid_and_start,
                        std::vector<int>(static_cast<std::size_t>(burst_tasks), burst_task_ms));
                    if (out.size() != static_cast<std::size_t>(burst_tasks)) fail("wrong results");
                    const auto deadline = clock_type::now() + std::chrono::seconds(60);
                    auto pool = d.load().pool;
                    while (pool.active + pool.parked + pool.starting > 0 &&
                           clock_type::now() < deadline) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(5));
                        pool = d.load().pool;
                    }
                    unretired += pool.active + pool.parked + pool.starting > 0;
                }
                return since(start);
            });
            const auto scaling = d.load().scaling;
            const auto st = d.stats();
            char extra[400];
            std::snprintf(extra, sizeof extra,
                          "rounds=%d spawned=%llu spawns_failed=%llu spawns_hung=%llu "
                          "spawn_median_s=%.3f rounds_unretired=%d satellites_submitted=%llu "
                          "satellites_joined=%llu satellites_failed=%llu "
                          "satellite_wait_median_s=%.3f satellite_join_median_s=%.3f",
                          rounds, static_cast<unsigned long long>(scaling.spawned),
                          static_cast<unsigned long long>(scaling.spawn_failures),
                          static_cast<unsigned long long>(scaling.spawns_hung),
                          scaling.spawn_median_seconds, unretired,
                          static_cast<unsigned long long>(st.satellites_submitted),
                          static_cast<unsigned long long>(st.satellites_joined),
                          static_cast<unsigned long long>(st.satellites_failed),
                          st.satellite_wait_median_seconds, st.satellite_join_median_seconds);
            report("spawns", static_cast<std::uint64_t>(rounds) * burst_tasks, workers, t, extra);
            // For scripts/bench-spawn: how long the run and its launcher take to end after this.
            std::printf(
                "driver_returned_at=%.6f\n",
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                    .count());
            std::fflush(stdout);
        } else {
            const int executors = std::max(workers, 1);
            if (!granularity->count("--tasks"))
                tasks = std::max<std::uint64_t>(200000 / task_us, 1) * executors;
            const std::vector<std::uint64_t> in(tasks, task_us);
            const auto t = measure(repeat, [&] {
                const auto start = clock_type::now();
                const auto out = d.map(spin, in);
                const double s = since(start);
                if (out != in) fail("wrong results");
                return s;
            });
            const double ideal =
                static_cast<double>(tasks * task_us) * 1e-6 / static_cast<double>(executors);
            char extra[96];
            std::snprintf(extra, sizeof extra, "task_us=%llu efficiency=%.3f",
                          static_cast<unsigned long long>(task_us), ideal / t.median);
            report("granularity", tasks, workers, t, extra);
        }
        return 0;
    });
}
