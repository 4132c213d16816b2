#include "tide/scheduler/graph_placement.hpp"

namespace tide::sched {

std::optional<std::size_t> choose_graph_worker(std::span<const graph_worker> workers,
                                               std::size_t missing_inputs, double task_seconds,
                                               transfer_cost transfer) {
    std::size_t known_bytes = 0;
    for (const auto& w : workers) known_bytes += w.input_bytes;
    std::optional<std::size_t> best;
    double best_cost = 0;
    const auto more_local = [&](const graph_worker& a, const graph_worker& b) {
        return a.input_bytes != b.input_bytes ? a.input_bytes > b.input_bytes
                                              : a.inputs_made > b.inputs_made;
    };
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const graph_worker& w = workers[i];
        if (!w.usable) continue;
        const double cost =
            static_cast<double>(missing_inputs - w.inputs_made) * transfer.hop_seconds +
            static_cast<double>(known_bytes - w.input_bytes) * transfer.seconds_per_byte +
            static_cast<double>(w.backlog) * task_seconds;
        if (!best || cost < best_cost || (cost == best_cost && more_local(w, workers[*best]))) {
            best = i;
            best_cost = cost;
        }
    }
    return best;
}

}  // namespace tide::sched
