#include "tide/scheduler/graph_placement.hpp"

namespace tide::sched {

std::optional<std::size_t> choose_graph_worker(std::span<const graph_worker> workers,
                                               std::size_t missing_inputs, double task_seconds,
                                               double hop_seconds) {
    std::optional<std::size_t> best;
    double best_cost = 0;
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const graph_worker& w = workers[i];
        if (!w.usable) continue;
        const double cost = static_cast<double>(missing_inputs - w.inputs_made) * hop_seconds +
                            static_cast<double>(w.backlog) * task_seconds;
        if (!best || cost < best_cost ||
            (cost == best_cost && w.inputs_made > workers[*best].inputs_made)) {
            best = i;
            best_cost = cost;
        }
    }
    return best;
}

}  // namespace tide::sched
