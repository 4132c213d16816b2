#include "tide/scheduler/dispatch.hpp"

#include <algorithm>

namespace tide::sched {

namespace {

// Tasks needed to raise every accepting worker to `level` (capped by prefetch).
std::size_t fill_cost(std::span<const worker_load> workers, std::size_t level,
                      std::size_t prefetch) {
    std::size_t cost = 0;
    const std::size_t target = std::min(level, prefetch);
    for (const auto& w : workers)
        if (w.accepting && w.in_hand < target) cost += target - w.in_hand;
    return cost;
}

}  // namespace

std::vector<std::size_t> plan_dispatch(std::size_t queued, std::span<const worker_load> workers,
                                       std::size_t prefetch) {
    std::vector<std::size_t> give(workers.size(), 0);
    if (queued == 0 || prefetch == 0) return give;

    // Highest level L in [0, prefetch] whose fill cost fits in the queue (binary search: the
    // cost grows with L).
    std::size_t lo = 0, hi = prefetch;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo + 1) / 2;
        if (fill_cost(workers, mid, prefetch) <= queued)
            lo = mid;
        else
            hi = mid - 1;
    }
    std::size_t left = queued;
    for (std::size_t i = 0; i < workers.size(); ++i) {
        if (workers[i].accepting && workers[i].in_hand < lo) {
            give[i] = lo - workers[i].in_hand;
            left -= give[i];
        }
    }
    // The remainder (fewer than one per eligible worker) goes one each to the workers now at
    // level L, most recently active first, so the split stays within one task of even.
    if (left == 0 || lo >= prefetch) return give;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < workers.size(); ++i)
        if (workers[i].accepting && workers[i].in_hand + give[i] == lo) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return workers[a].last_active > workers[b].last_active;
    });
    for (std::size_t k = 0; k < order.size() && left > 0; ++k, --left) ++give[order[k]];
    return give;
}

void fill_order::update(std::size_t worker, const worker_load& load) {
    if (worker >= loads_.size()) loads_.resize(worker + 1, worker_load{0, false, 0});
    if (loads_[worker].accepting) accepting_.erase(key_of(worker, loads_[worker]));
    loads_[worker] = load;
    if (load.accepting) accepting_.insert(key_of(worker, load));
}

std::optional<std::size_t> fill_order::next(std::size_t prefetch) const {
    if (accepting_.empty()) return std::nullopt;
    const auto& [in_hand, active, worker] = *accepting_.begin();
    if (in_hand >= prefetch) return std::nullopt;
    return worker;
}

}  // namespace tide::sched
