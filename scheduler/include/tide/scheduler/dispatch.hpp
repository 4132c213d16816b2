#pragma once
// Which worker gets how many tasks from rank 0's central queue. Pure arithmetic so that it can be
// tested against any mix of worker loads.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <vector>

namespace tide::sched {

struct worker_load {
    std::size_t in_hand = 0;  // tasks sent to the worker whose results are not back yet
    bool accepting = true;    // false once the worker is shutting down or gone
    // When the worker was last active (any clock's ticks): a larger value is more recent.
    std::int64_t last_active = 0;
};

// Shares `queued` tasks among the accepting workers so that their in-hand counts become as even
// as possible (least loaded first, "water filling"), never past `prefetch` per worker. Returns
// one count per worker. Even sharing matters when few tasks are queued: ten tasks and two idle
// workers give five each, not ten to whoever is first. What cannot be shared evenly goes to the
// most recently active of the workers tied for it: one task in flight at a time stays on the
// worker that just finished one, still polling at full speed, not one that idled long enough to
// sleep between polls (and would have it stolen back while it slept).
std::vector<std::size_t> plan_dispatch(std::size_t queued, std::span<const worker_load> workers,
                                       std::size_t prefetch);

// The same sharing, kept up to date as loads change instead of worked out from every worker on
// each dispatch: placing the next task, and taking a changed load in, cost O(log P) rather
// than O(P). Giving tasks one at a time to next() ends with the counts plan_dispatch gives.
// tide-sim shows where that matters (thousands of workers on one rank 0; see README).
class fill_order {
public:
    // A worker's load (in hand, accepting, last active) is now `load`.
    void update(std::size_t worker, const worker_load& load);
    // The worker to get the next task: the least loaded accepting one under `prefetch`, the
    // most recently active among those tied; none if all are full (or none accepts).
    std::optional<std::size_t> next(std::size_t prefetch) const;
    const worker_load& load(std::size_t worker) const { return loads_[worker]; }
    std::size_t size() const { return loads_.size(); }

private:
    using key = std::tuple<std::size_t, std::int64_t, std::size_t>;  // in hand, -active, index
    static key key_of(std::size_t worker, const worker_load& load) {
        return {load.in_hand, -load.last_active, worker};
    }
    std::set<key> accepting_;
    std::vector<worker_load> loads_;
};

}  // namespace tide::sched
