#pragma once
// Which worker gets how many tasks from rank 0's central queue. Pure arithmetic so that it can be
// tested against any mix of worker loads.

#include <cstddef>
#include <span>
#include <vector>

namespace tide::sched {

struct worker_load {
    std::size_t in_hand = 0;  // tasks sent to the worker whose results are not back yet
    bool accepting = true;    // false once the worker is shutting down or gone
};

// Shares `queued` tasks among the accepting workers so that their in-hand counts become as even
// as possible (least loaded first, "water filling"), never past `prefetch` per worker. Returns
// one count per worker. Even sharing matters when few tasks are queued: ten tasks and two idle
// workers give five each, not ten to whoever is first.
std::vector<std::size_t> plan_dispatch(std::size_t queued, std::span<const worker_load> workers,
                                       std::size_t prefetch);

}  // namespace tide::sched
