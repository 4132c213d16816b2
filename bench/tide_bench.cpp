// tide-bench: dispatch overhead of tide, one result line per run:
//   name=<bench> tasks=<N> workers=<W> seconds=<S> rate=<tasks/s> <extra k=v ...>
// Sub-commands (after any --tide-* flags):
//   throughput --tasks N [--payload BYTES]   N no-op tasks through submit_all, results checked
//   latency --tasks N                        one task at a time: submit, then get()
//   granularity --task-us T [--tasks N]      tasks spinning T us; efficiency = ideal / measured
// Every sub-command takes --repeat R and reports the median run (with the fastest and
// slowest), since this machine is shared and noisy.

#include <tide/tide.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::uint64_t noop(std::uint64_t x) { return x; }
TIDE_TASK(noop);

std::uint64_t noop_payload(const std::vector<std::uint8_t>& payload) { return payload.size(); }
TIDE_TASK(noop_payload);

// Busy-waits (not sleeps) for `us` microseconds, as a compute task would occupy its core.
std::uint64_t spin(std::uint64_t us) {
    const auto end = clock_type::now() + std::chrono::microseconds(us);
    std::uint64_t n = 0;
    while (clock_type::now() < end) ++n;
    return us;
}
TIDE_TASK(spin);

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
        auto* latency = app.add_subcommand("latency", "one task at a time, submit then get()");
        latency->add_option("--tasks", tasks)->check(CLI::PositiveNumber);
        auto* granularity = app.add_subcommand("granularity", "tasks spinning T us each");
        granularity->add_option("--task-us", task_us)->check(CLI::PositiveNumber);
        granularity->add_option("--tasks", tasks)->check(CLI::PositiveNumber);
        app.add_option("--repeat", repeat, "runs; the median is reported")
            ->check(CLI::Range(1, 1000));
        std::vector<std::string> args(d.args().rbegin(), d.args().rend() - 1);  // CLI11 order
        try {
            app.parse(args);
        } catch (const CLI::ParseError& e) {
            return app.exit(e);
        }
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
                    const auto out = d.map(noop, ids);
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
            report("throughput", tasks, workers, t, "payload=" + std::to_string(payload));
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
