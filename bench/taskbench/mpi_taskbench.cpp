// Task Bench in plain MPI, the reference tide's graphs are measured against: one rank per
// block of point columns, each step's outputs sent to the ranks whose points take them with
// non-blocking point-to-point messages (one per edge between ranks), every task checking its
// inputs as the tide version does. Prints the same result line as tide-taskbench.
//   mpirun -n 2 mpi-taskbench --pattern stencil_1d --width 2 --steps 1000 --iterations 4096

#include <mpi.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "patterns.hpp"

namespace {

using taskbench::token;

struct layout {
    long width;
    int ranks;
    long first(int r) const { return width * r / ranks; }
    int owner(long x) const {
        int r = 0;
        while (r + 1 < ranks && first(r + 1) <= x) ++r;
        return r;
    }
};

// One message: a producer's output for the task at (step, consumer).
struct incoming {
    long consumer;
    long producer;
    token value;
};

double run_graph(const taskbench::graph_shape& g, long iterations, int rank, int ranks) {
    const layout at{g.width, ranks};
    const long mine_first = at.first(rank), mine_end = at.first(rank + 1);
    std::vector<token> outputs(static_cast<std::size_t>(g.width));  // this rank's, last step
    std::vector<incoming> received;
    std::vector<MPI_Request> receives, sends;
    std::vector<token> sent;  // buffers of the sends in flight
    std::vector<token> in;
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    for (long step = 0; step < g.steps; ++step) {
        // Post the receives of this step's remote inputs.
        received.clear();
        receives.clear();
        const long active = taskbench::width_at(g, step);
        for (long x = mine_first; x < std::min(mine_end, active); ++x)
            for (const long p : taskbench::inputs_of(g, step, x))
                if (at.owner(p) != rank) received.push_back({x, p, {}});
        receives.resize(received.size());
        for (std::size_t i = 0; i < received.size(); ++i)
            MPI_Irecv(&received[i].value, 2, MPI_INT64_T, at.owner(received[i].producer),
                      static_cast<int>(received[i].producer), MPI_COMM_WORLD, &receives[i]);
        MPI_Waitall(static_cast<int>(receives.size()), receives.data(), MPI_STATUSES_IGNORE);
        MPI_Waitall(static_cast<int>(sends.size()), sends.data(), MPI_STATUSES_IGNORE);
        sends.clear();
        sent.clear();
        // Run this rank's tasks of the step.
        std::vector<token> now(outputs);
        for (long x = mine_first; x < std::min(mine_end, active); ++x) {
            in.clear();
            for (const long p : taskbench::inputs_of(g, step, x)) {
                if (at.owner(p) == rank) {
                    in.push_back(outputs[static_cast<std::size_t>(p)]);
                } else {
                    for (const auto& r : received)
                        if (r.consumer == x && r.producer == p) in.push_back(r.value);
                }
            }
            if (!taskbench::inputs_match(g, step, x, in)) {
                std::fprintf(stderr, "mpi-taskbench: task (%ld, %ld) got the wrong inputs\n", step,
                             x);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            taskbench::compute_kernel(iterations);
            now[static_cast<std::size_t>(x)] = {step, x};
        }
        outputs.swap(now);
        // Send this step's outputs to the ranks whose next-step tasks take them.
        if (step + 1 == g.steps) break;
        const long next_active = taskbench::width_at(g, step + 1);
        for (long y = 0; y < next_active; ++y) {
            const int to = at.owner(y);
            if (to == rank) continue;
            for (const long p : taskbench::inputs_of(g, step + 1, y))
                if (p >= mine_first && p < mine_end)
                    sent.push_back(outputs[static_cast<std::size_t>(p)]);
        }
        sends.resize(sent.size());
        std::size_t k = 0;
        for (long y = 0; y < next_active; ++y) {
            const int to = at.owner(y);
            if (to == rank) continue;
            for (const long p : taskbench::inputs_of(g, step + 1, y))
                if (p >= mine_first && p < mine_end) {
                    MPI_Isend(&sent[k], 2, MPI_INT64_T, to, static_cast<int>(p), MPI_COMM_WORLD,
                              &sends[k]);
                    ++k;
                }
        }
    }
    MPI_Waitall(static_cast<int>(sends.size()), sends.data(), MPI_STATUSES_IGNORE);
    MPI_Barrier(MPI_COMM_WORLD);
    return MPI_Wtime() - start;
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, ranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    CLI::App app{"Task Bench's dependency patterns in plain MPI", "mpi-taskbench"};
    std::vector<std::string> patterns{"stencil_1d"};
    std::vector<long> widths{2};
    taskbench::graph_shape g;
    std::vector<long> sizes{4096};
    int repeat = 1;
    app.add_option("--pattern", patterns, "as tide-taskbench's")->delimiter(',');
    app.add_option("--width", widths)->delimiter(',')->check(CLI::Range(1L, 1L << 20));
    app.add_option("--steps", g.steps)->check(CLI::Range(1L, 1L << 30));
    app.add_option("--radix", g.radix)->check(CLI::Range(0L, 1L << 20));
    app.add_option("--period", g.period)->check(CLI::Range(1L, 1L << 20));
    app.add_option("--iterations", sizes)->delimiter(',')->check(CLI::Range(0L, 1L << 40));
    app.add_option("--repeat", repeat)->check(CLI::Range(1, 1000));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = rank == 0 ? app.exit(e) : 2;
        MPI_Finalize();
        return code;
    }
    std::string bad;
    const auto kinds = taskbench::patterns_named(patterns, bad);
    if (!kinds) {
        if (rank == 0) std::fprintf(stderr, "mpi-taskbench: unknown pattern '%s'\n", bad.c_str());
        MPI_Finalize();
        return 2;
    }
    for (const long width : widths)
        if (width < ranks) {
            if (rank == 0)
                std::fprintf(stderr, "mpi-taskbench: needs at least one point per rank\n");
            MPI_Finalize();
            return 2;
        }
    taskbench::sweep(
        g, *kinds, widths, sizes, repeat,
        [&](const taskbench::graph_shape& shape, long iterations) {
            return run_graph(shape, iterations, rank, ranks);
        },
        [&](const taskbench::graph_shape& shape, long iterations, double seconds) {
            if (rank == 0) taskbench::print_result("mpi", "p2p", ranks, shape, iterations, seconds);
        });
    MPI_Finalize();
    return 0;
}
