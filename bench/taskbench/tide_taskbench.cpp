// Task Bench on tide: the graph of bench/taskbench/patterns.hpp, every task a tide task that
// checks it received exactly the outputs the pattern says and then runs the compute kernel.
// One result line per kernel size:
//   system=tide mode=<dataflow|barrier> pattern=<p> workers=<n> width=<w> steps=<t>
//   iterations=<i> tasks=<n> seconds=<median>
// dataflow: every task is submitted at once, its inputs passed as shared futures (readiness is
// counted on rank 0). barrier: the way a graph is written without futures as arguments: the
// driver get()s each step's outputs before submitting the next step with them.
//   mpirun -n 3 tide-taskbench --pattern stencil_1d --width 2 --steps 1000 --iterations 4096,1024

#include <tide/tide.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "patterns.hpp"

namespace {

using taskbench::token;

taskbench::token point_task(int kind, long width, long radix, long period, long step, long point,
                            long iterations, const std::vector<token>& inputs) {
    const taskbench::graph_shape g{static_cast<taskbench::pattern>(kind), width, 0, radix, period};
    if (!taskbench::inputs_match(g, step, point, inputs))
        throw std::runtime_error("task (" + std::to_string(step) + ", " + std::to_string(point) +
                                 ") of " + taskbench::name_of(g.kind) +
                                 " did not receive the outputs its pattern says");
    taskbench::compute_kernel(iterations);
    return {step, point};
}
TIDE_TASK(point_task);

// Throws unless the last step's outputs are those of its points.
void check_last_step(const taskbench::graph_shape& g, const std::vector<token>& last) {
    for (std::size_t x = 0; x < last.size(); ++x)
        if (last[x] != token{g.steps - 1, static_cast<long>(x)})
            throw std::runtime_error("the last step's outputs are not those of its points");
}

// Runs the whole graph once; returns its seconds. Every task checks its inputs: a mismatch
// fails it, and its dependents with it, up to the driver.
double run_graph(tide::driver& d, const taskbench::graph_shape& g, long iterations, bool barrier) {
    const int kind = static_cast<int>(g.kind);
    const auto start = std::chrono::steady_clock::now();
    std::vector<token> outputs;  // barrier: the step before, collected by the driver
    std::vector<tide::shared_future<token>> before, all;
    for (long step = 0; step < g.steps; ++step) {
        const long active = taskbench::width_at(g, step);
        if (barrier) {
            std::vector<tide::future<token>> now;
            for (long x = 0; x < active; ++x) {
                std::vector<token> in;
                for (const long p : taskbench::inputs_of(g, step, x))
                    in.push_back(outputs[static_cast<std::size_t>(p)]);
                now.push_back(d.submit(point_task, kind, g.width, g.radix, g.period, step, x,
                                       iterations, std::move(in)));
            }
            outputs = tide::get_all(now);
            continue;
        }
        std::vector<tide::shared_future<token>> now;
        for (long x = 0; x < active; ++x) {
            std::vector<tide::shared_future<token>> in;
            for (const long p : taskbench::inputs_of(g, step, x))
                in.push_back(before[static_cast<std::size_t>(p)]);
            now.push_back(
                d.submit(point_task, kind, g.width, g.radix, g.period, step, x, iterations, in)
                    .share());
        }
        all.insert(all.end(), now.begin(), now.end());
        before = std::move(now);
    }
    // Done when every task is (a pattern without edges has no last step that waits for all);
    // a task that failed throws here.
    for (const auto& f : all) f.get();
    if (!barrier)
        for (const auto& f : before) outputs.push_back(f.get());
    check_last_step(g, outputs);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    return tide::run(argc, argv, [](tide::driver& d) -> int {
        CLI::App app{"Task Bench's dependency patterns on tide", "tide-taskbench"};
        std::vector<std::string> patterns{"stencil_1d"};
        std::vector<long> widths{2};
        taskbench::graph_shape g;
        std::vector<long> sizes{4096};
        int repeat = 1;
        bool barrier = false;
        app.add_option("--pattern", patterns,
                       "trivial, no_comm, stencil_1d, nearest, spread, fft, tree, all_to_all, "
                       "or all; several, comma-separated")
            ->delimiter(',');
        app.add_option("--width", widths, "points per step; several, comma-separated")
            ->delimiter(',')
            ->check(CLI::Range(1L, 1L << 20));
        app.add_option("--steps", g.steps, "time steps")->check(CLI::Range(1L, 1L << 30));
        app.add_option("--radix", g.radix, "nearest, spread: inputs per task")
            ->check(CLI::Range(0L, 1L << 20));
        app.add_option("--period", g.period, "spread: steps before the offsets repeat")
            ->check(CLI::Range(1L, 1L << 20));
        app.add_option("--iterations", sizes, "kernel sizes to run, in order")
            ->delimiter(',')
            ->check(CLI::Range(0L, 1L << 40));
        app.add_option("--repeat", repeat, "runs per size; the median is reported")
            ->check(CLI::Range(1, 1000));
        app.add_flag("--barrier", barrier, "the driver collects each step before the next");
        std::vector<std::string> args(d.args().rbegin(), d.args().rend() - 1);
        try {
            app.parse(args);
        } catch (const CLI::ParseError& e) {
            return app.exit(e);
        }
        std::string bad;
        const auto kinds = taskbench::patterns_named(patterns, bad);
        if (!kinds) {
            std::fprintf(stderr, "tide-taskbench: unknown pattern '%s'\n", bad.c_str());
            return 2;
        }
        taskbench::sweep(
            g, *kinds, widths, sizes, repeat,
            [&](const taskbench::graph_shape& shape, long iterations) {
                return run_graph(d, shape, iterations, barrier);
            },
            [&](const taskbench::graph_shape& shape, long iterations, double seconds) {
                taskbench::print_result("tide", barrier ? "barrier" : "dataflow", d.workers(),
                                        shape, iterations, seconds);
            });
        return 0;
    });
}
