// Unbalanced Tree Search on tide: counts the nodes, leaves and depth of a UTS tree. A task
// explores nodes depth-first from its own stack and, whenever that stack holds two chunks,
// hands half of the oldest nodes to a child task. Children stay on the worker's deque unless
// an idle worker steals them.
//   mpirun -n 3 build/examples/uts -t 1 -a 3 -d 10 -b 4 -r 19          (T1)
//   mpirun -n 3 build/examples/uts -t 0 -b 2000 -q 0.124875 -m 8 -r 42  (T3)
//   build/examples/uts ... --sequential                                 (plain recursion)

#include <tide/tide.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "uts/tree.hpp"

// Takes every other node of the oldest 2 * chunk nodes out of the stack. The oldest nodes sit
// nearest the root and carry the most work; alternating shares them, so the part given away and
// the part kept are alike. (Giving away the oldest chunk whole hands on nearly all of a task's
// work at its first split, and an idle worker steals it back at once: work ping-pongs.)
std::vector<uts::node> split(std::vector<uts::node>& stack, std::size_t chunk) {
    std::vector<uts::node> given;
    given.reserve(chunk);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < 2 * chunk; ++i) {
        if (i % 2 == 0)
            given.push_back(stack[i]);
        else
            stack[kept++] = stack[i];
    }
    stack.erase(stack.begin() + static_cast<long>(kept),
                stack.begin() + static_cast<long>(2 * chunk));
    return given;
}

uts::counts explore(uts::params p, std::vector<uts::node> stack) {
    uts::counts c;
    std::vector<tide::future<uts::counts>> children;
    const std::size_t chunk = static_cast<std::size_t>(p.chunk);
    while (!stack.empty()) {
        const uts::node n = stack.back();
        stack.pop_back();
        ++c.nodes;
        if (n.height > c.depth) c.depth = n.height;
        const int k = uts::children_of(n, p);
        if (k == 0) ++c.leaves;
        for (int i = 0; i < k; ++i) stack.push_back(uts::child(n, i, p));
        if (stack.size() >= 2 * chunk)
            children.push_back(tide::submit(explore, p, split(stack, chunk)));
    }
    for (auto& f : children) c.add(f.get());
    return c;
}
TIDE_TASK(explore);

namespace {
void print(const uts::counts& c, double seconds, const std::string& how) {
    std::cout << "nodes=" << c.nodes << " leaves=" << c.leaves << " depth=" << c.depth << "\n";
    std::cout << "time_s=" << seconds
              << " mnodes_per_s=" << static_cast<double>(c.nodes) / seconds / 1e6 << " " << how
              << "\n";
}
}  // namespace

int main(int argc, char** argv) {
    // Sequential mode runs without the runtime (and without MPI) at all.
    std::vector<std::string> args(argv, argv + argc);
    uts::params p;
    bool sequential = false;
    try {
        std::vector<std::string> own;
        for (const auto& a : args)
            if (a.rfind("--tide-", 0) != 0) own.push_back(a);
        p = uts::parse(own, sequential);
    } catch (const std::invalid_argument& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    using clock = std::chrono::steady_clock;
    if (sequential) {
        const auto start = clock::now();
        const auto c = uts::count_sequential(uts::root(p), p);
        print(c, std::chrono::duration<double>(clock::now() - start).count(),
              "mode=sequential " + uts::describe(p));
        return 0;
    }
    return tide::run(argc, argv, [&](tide::driver& d) {
        const auto start = clock::now();
        const auto c = d.submit(explore, p, std::vector<uts::node>{uts::root(p)}).get();
        const double seconds = std::chrono::duration<double>(clock::now() - start).count();
        print(c, seconds,
              "mode=tide workers=" + std::to_string(d.workers()) + " " + uts::describe(p) + "\n" +
                  tide::to_string(d.load().stealing));
        return 0;
    });
}
