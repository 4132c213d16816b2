#pragma once
// Rank 0's record of the driver's tasks that wait for other tasks (dataflow edges): a task
// submitted with futures among its arguments is held here, not queued, until the last of its
// inputs has finished. Its arguments are known then as bytes: the encoding of a tuple (and of a
// vector) is the concatenation of its elements' encodings, so each input's result goes in
// whole at the offset where its argument would have been encoded. An input's result is copied
// into every task that waits for it when it arrives, so a finished task's record can go as
// soon as its own future is gone, whoever still waits for it.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tide/scheduler/task_table.hpp"

namespace tide::sched {

class task_graph {
public:
    // One input of a waiting task: the task it takes the result of, and where that result goes
    // in its arguments (order_only: an ordering edge that carries no value).
    struct input {
        static constexpr std::size_t order_only = std::numeric_limits<std::size_t>::max();
        std::size_t at = order_only;
        task_id from = no_task;
    };

    // `task` waits for `inputs` (in increasing `at`; ordering edges anywhere), which are all
    // unfinished, except those that are passed to arrived() right after. `literal` is its
    // arguments' encoding with every input's result left out.
    void hold(task_id task, std::vector<std::byte> literal, std::vector<input> inputs);

    // The waiting tasks that take `producer`'s result, one entry per edge (a task passing
    // the same future twice appears twice); forgets those edges. Call arrived() or drop() for
    // each.
    std::vector<task_id> take_consumers(task_id producer);
    // An input of `task` finished with `result` (ignored for an ordering edge); true once it
    // was the last, when arguments() may be called. False for a task not held (dropped).
    bool arrived(task_id task, task_id producer, std::span<const std::byte> result);
    // The arguments of a task whose inputs have all arrived; it leaves the graph.
    std::vector<std::byte> arguments(task_id task);
    // A task that will not run (an input failed), or need not wait any more (it ran): it
    // leaves the graph, and the inputs it still missed no longer list it as a consumer.
    // Returns those inputs.
    std::vector<task_id> drop(task_id task);

    // The waiting tasks that take `producer`'s result, without forgetting them.
    const std::vector<task_id>& consumers_of(task_id producer) const;
    // A waiting task's arguments as far as they are known: the inputs that have arrived are
    // put in, and the others listed with their offsets in those bytes (for sending the task
    // ahead to where its missing inputs are made). It stays in the graph.
    std::pair<std::vector<std::byte>, std::vector<input>> partial(task_id task) const;

    bool holds(task_id task) const { return waiting_.count(task) != 0; }
    bool empty() const { return waiting_.empty(); }
    bool has_consumers(task_id producer) const { return consumers_.count(producer) != 0; }
    std::size_t size() const { return waiting_.size(); }
    // The tasks `task` still waits for (for a message when a run ends with it still held).
    std::vector<task_id> missing_inputs(task_id task) const;

private:
    struct waiting {
        std::vector<std::byte> literal;
        std::vector<input> inputs;
        std::vector<std::vector<std::byte>> results;  // by input, as they arrive
        std::vector<bool> in;                         // by input: arrived
        std::size_t missing = 0;
    };
    std::unordered_map<task_id, waiting> waiting_;
    std::unordered_map<task_id, std::vector<task_id>> consumers_;  // producer -> waiting tasks
};

}  // namespace tide::sched
