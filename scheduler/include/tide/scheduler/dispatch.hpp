#pragma once
// Which worker gets how many tasks from rank 0's central queue. Pure arithmetic so that it can be
// tested against any mix of worker loads.

#include <cstddef>
#include <cstdint>
#include <span>
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

}  // namespace tide::sched
