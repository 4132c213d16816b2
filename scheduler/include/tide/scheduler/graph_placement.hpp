#pragma once
// Where a task of a graph waits for its inputs (sent ahead of them, see rank0/graph.cpp): the
// worker with the least expected delay before it could start there, as Dask's
// worker_objective weighs it: the inputs made elsewhere must be forwarded (a hop each way
// through rank 0, `hop_seconds`, and their bytes at `seconds_per_byte`), and the tasks already
// waiting or queued there run first. Among equals, the worker that holds most of its input
// bytes, then makes most of its inputs, then the first.

#include <cstddef>
#include <optional>
#include <span>

namespace tide::sched {

struct graph_worker {
    bool usable = false;          // active, accepting, and below its limit of tasks sent ahead
    std::size_t inputs_made = 0;  // of the task's missing inputs, those made there
    std::size_t input_bytes = 0;  // of those, the bytes known (results kept there)
    std::size_t backlog = 0;      // tasks sent there, ahead or in hand, not finished
};

// What moving an input between workers costs.
struct transfer_cost {
    double hop_seconds = 0;       // per input
    double seconds_per_byte = 0;  // per byte of the inputs whose size is known
};

std::optional<std::size_t> choose_graph_worker(std::span<const graph_worker> workers,
                                               std::size_t missing_inputs, double task_seconds,
                                               transfer_cost transfer);

}  // namespace tide::sched
