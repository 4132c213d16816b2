#pragma once
// The part of rank 0's engine that the header-only templates (driver, future) call. Everything
// behind it, MPI included, lives in runtime/src/rank0/engine.cpp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tide/detail/registry.hpp"
#include "tide/load.hpp"
#include "tide/scheduler/task_graph.hpp"
#include "tide/stats.hpp"

namespace tide::detail {

using task_id = std::uint64_t;
// Where another task's result goes in a task's encoded arguments (a dataflow edge).
using task_input = sched::task_graph::input;
struct engine_state;

// The tasks of one bulk submission (driver::map, driver::submit_all): their ids are
// first, first + 1, ... in order.
struct bulk_ids {
    task_id first = 0;
    std::size_t count = 0;
    task_id at(std::size_t i) const { return first + i; }
};
// How a bulk submission's arguments come to the engine: in ranges of `range_size` tasks (the
// last one shorter), each a packed range (tide/detail/packed_range.hpp), a range closed early
// once its arguments reach `range_bytes`.
struct bulk_start {
    bulk_ids ids;
    std::size_t range_size = 1;
    std::size_t range_bytes = 0;
};

class engine {
public:
    explicit engine(std::unique_ptr<engine_state> state);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Queues one task whose arguments are already encoded for `entry`.
    task_id submit(const task_entry& entry, bytes args);
    // A bulk submission of `count` tasks of `entry`: begin, add the ranges in order, end. With
    // a range size of 1 every task is its own record, as with submit (tasks of known long
    // duration, a journal, few tasks).
    bulk_start begin_bulk(const task_entry& entry, std::size_t count);
    void add_range(const bulk_start& bulk, bytes packed_args);
    void end_bulk(const bulk_start& bulk);
    // A bulk submission stopped before all its ranges came (an argument did not encode): its
    // tasks queued so far run, and their results are dropped.
    void drop_bulk(const bulk_start& bulk) noexcept;
    // Waits for every task of a bulk submission, then hands their results over in order,
    // `each(i, bytes)` for every task that succeeded, and forgets them; throws the error of the
    // first one that failed (map).
    void take_bulk(const bulk_ids& bulk,
                   const std::function<void(std::size_t, std::span<const std::byte>)>& each);
    // Queues a task whose arguments take other tasks' results: `literal` is their encoding
    // without those results, `inputs` says where each goes. It waits on rank 0 until the last
    // input has finished, and fails (with the input's error) if one fails.
    task_id submit_after(const task_entry& entry, bytes literal, std::vector<task_input> inputs);
    // A task that runs nothing: its result is `literal` with its inputs' results put in, once
    // all have finished (tide::when_all).
    task_id join(bytes literal, std::vector<task_input> inputs);
    // Records a task that failed before it could be sent (unknown name, wrong argument types).
    task_id submit_failed(std::string name, std::string message, bool unknown_name);

    // Whether the task has finished (a result kept on a worker starts coming to rank 0).
    bool ready(task_id id);
    // Drives progress until the task is done, and its result on rank 0 (fetched from the
    // worker that kept it), or the deadline passes; true if done.
    bool wait_until(task_id id, std::chrono::steady_clock::time_point deadline);
    // Hands over the result bytes of a finished task and forgets it; throws task_error for a
    // failed one.
    bytes take(task_id id);
    // A copy of the result bytes of a finished task, which stays known (shared futures);
    // throws task_error for a failed one.
    bytes peek(task_id id);
    // The future is gone: forget the task once it finishes.
    void release(task_id id) noexcept;

    int worker_count() const;
    // Seconds until the job's end (its wall time limit); none when no limit is known.
    std::optional<double> seconds_left() const;
    load_snapshot load();
    run_stats stats();
    // How the run ended: every worker stopped and every MPI call returned; every worker
    // stopped but a call on rank 0's spawner thread never returned (MPI_Finalize must not
    // run); a worker died during the run (MPI_Finalize might wait for it); or some worker did
    // not stop in time.
    enum class ending { clean, mpi_stuck, peers_lost, workers_stuck };
    // Ends the run: shuts every worker down, then refuses further use (futures that outlive
    // the run get a tide::error).
    ending close();
    engine_state& state() { return *state_; }

private:
    std::unique_ptr<engine_state> state_;
};

}  // namespace tide::detail
