#pragma once
// The dependency patterns of Task Bench (Slaughter et al., "Task Bench: A Parameterized
// Benchmark for Evaluating Parallel Runtime Performance", SC'20), written from their published
// definitions: a graph of `width` points by `steps` time steps, where the task at (step,
// point) takes the outputs of some points of the step before. Shared by the tide version, the
// plain-MPI reference and the tests, so that all three run the same graph.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskbench {

enum class pattern { trivial, no_comm, stencil_1d, nearest, spread, fft, tree, all_to_all };

inline constexpr std::pair<pattern, const char*> pattern_names[] = {
    {pattern::trivial, "trivial"},
    {pattern::no_comm, "no_comm"},
    {pattern::stencil_1d, "stencil_1d"},
    {pattern::nearest, "nearest"},
    {pattern::spread, "spread"},
    {pattern::fft, "fft"},
    {pattern::tree, "tree"},
    {pattern::all_to_all, "all_to_all"}};

inline std::optional<pattern> pattern_named(std::string_view name) {
    for (const auto& [p, n] : pattern_names)
        if (name == n) return p;
    return std::nullopt;
}
inline const char* name_of(pattern p) {
    for (const auto& [q, n] : pattern_names)
        if (p == q) return n;
    return "?";
}

// The patterns named in a list ("all": every one), or none if a name is unknown (`bad` says
// which).
inline std::optional<std::vector<pattern>> patterns_named(const std::vector<std::string>& names,
                                                          std::string& bad) {
    std::vector<pattern> out;
    for (const auto& name : names) {
        if (name == "all") {
            for (const auto& [p, n] : pattern_names) out.push_back(p);
        } else if (const auto p = pattern_named(name)) {
            out.push_back(*p);
        } else {
            bad = name;
            return std::nullopt;
        }
    }
    return out;
}

struct graph_shape {
    pattern kind = pattern::stencil_1d;
    long width = 2;
    long steps = 1000;
    long radix = 3;   // nearest, spread: inputs per task
    long period = 3;  // spread: how many steps before its offsets repeat
};

// Points active at `step`: all of them, except for tree, which doubles from one point.
inline long width_at(const graph_shape& g, long step) {
    if (g.kind == pattern::tree) return step >= 62 ? g.width : std::min(g.width, 1L << step);
    return g.width;
}

// The points of step - 1 whose outputs the task at (step, point) takes: ascending, without
// repeats, none at step 0.
inline std::vector<long> inputs_of(const graph_shape& g, long step, long point) {
    std::vector<long> in;
    if (step == 0) return in;
    const long w = g.width;
    const auto range = [&](long first, long last) {
        for (long x = std::max(0L, first); x <= std::min(last, w - 1); ++x) in.push_back(x);
    };
    switch (g.kind) {
        case pattern::trivial:
            break;
        case pattern::no_comm:
            in.push_back(point);
            break;
        case pattern::stencil_1d:
            range(point - 1, point + 1);
            break;
        case pattern::nearest:  // radix points around it, more of them to the left
            if (g.radix > 0) range(point - g.radix / 2, point + (g.radix - 1) / 2);
            break;
        case pattern::spread:  // radix points spread evenly, shifted by the step in its period
            for (long i = 0; i < g.radix; ++i)
                in.push_back((point + i * w / g.radix + (i > 0 ? step % g.period : 0)) % w);
            break;
        case pattern::fft: {  // butterflies: distance 2^k, k cycling through log2(width)
            long levels = 0;
            while ((1L << levels) < w) ++levels;
            const long distance = levels == 0 ? 1 : 1L << ((step + levels - 1) % levels);
            if (point - distance >= 0) in.push_back(point - distance);
            in.push_back(point);
            if (point + distance < w) in.push_back(point + distance);
            break;
        }
        case pattern::tree:  // each point takes its parent's output
            in.push_back(point / 2);
            break;
        case pattern::all_to_all:
            range(0, w - 1);
            break;
    }
    std::sort(in.begin(), in.end());
    in.erase(std::unique(in.begin(), in.end()), in.end());
    const long before = width_at(g, step - 1);
    in.erase(std::remove_if(in.begin(), in.end(), [&](long x) { return x >= before; }), in.end());
    return in;
}

// Tasks in the whole graph.
inline long task_count(const graph_shape& g) {
    long n = 0;
    for (long t = 0; t < g.steps; ++t) n += width_at(g, t);
    return n;
}

// Runs every graph of the sweep: each pattern at each width, each kernel size `repeat` times;
// `report` gets the graph, the kernel size and the median of `run`'s seconds.
template <class Run, class Report>
void sweep(graph_shape g, const std::vector<pattern>& kinds, const std::vector<long>& widths,
           const std::vector<long>& sizes, int repeat, Run&& run, Report&& report) {
    for (const auto kind : kinds)
        for (const long width : widths) {
            g.kind = kind;
            g.width = width;
            for (const long iterations : sizes) {
                std::vector<double> runs;
                for (int r = 0; r < repeat; ++r) runs.push_back(run(g, iterations));
                std::sort(runs.begin(), runs.end());
                report(g, iterations, runs[runs.size() / 2]);
            }
        }
}

// The result line both programs print (scripts/bench-graph reads it).
inline void print_result(const char* system, const char* mode, int workers, const graph_shape& g,
                         long iterations, double seconds) {
    std::printf(
        "system=%s mode=%s pattern=%s workers=%d width=%ld steps=%ld iterations=%ld tasks=%ld "
        "seconds=%.6f\n",
        system, mode, name_of(g.kind), workers, g.width, g.steps, iterations, task_count(g),
        seconds);
    std::fflush(stdout);
}

// What a task outputs and its consumers check: its own step and point.
using token = std::pair<std::int64_t, std::int64_t>;

// Whether a task at (step, point) received exactly the outputs the pattern says, in order.
inline bool inputs_match(const graph_shape& g, long step, long point,
                         const std::vector<token>& received) {
    const auto expected = inputs_of(g, step, point);
    if (expected.size() != received.size()) return false;
    for (std::size_t i = 0; i < expected.size(); ++i)
        if (received[i] != token{step - 1, expected[i]}) return false;
    return true;
}

// Where the kernel's result goes, so that the compiler keeps the work.
inline volatile double kernel_sink = 0;

// The compute-bound kernel: `iterations` rounds of a dependent multiply-add chain, about four
// cycles each.
inline void compute_kernel(long iterations) {
    double a = 1.0;
    for (long i = 0; i < iterations; ++i) a = a * 1.0000001 + 1e-9;
    kernel_sink = a;
}

}  // namespace taskbench
