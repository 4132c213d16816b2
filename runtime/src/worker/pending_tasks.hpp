#pragma once
// The tasks of a graph that rank 0 sent ahead to this worker (wire::pending_batch): each waits
// here until its inputs are in, made on this worker or forwarded by rank 0, then runs like a
// task received in a batch. A chain of tasks on one worker then needs no round trip through
// rank 0 between its steps. Every result still goes to rank 0, which keeps the graph too and
// takes over whatever a lost worker held.

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/wire.hpp"
#include "tide/scheduler/task_graph.hpp"
#include "worker/kept_results.hpp"

namespace tide::detail {

class pending_tasks {
public:
    // `rank` and `host` name this worker in the errors of tasks that fail here; inputs made
    // here may be among the results it keeps (`kept`).
    pending_tasks(int rank, std::string host, const kept_results& kept)
        : rank_(rank), host_(std::move(host)), kept_(kept) {}

    struct ready_task {
        std::uint64_t id;
        std::uint64_t name_hash;
        std::uint64_t signature;
        bytes arguments;
        bool keep;  // as wire::task_view::keep
    };
    // A task that cannot run because an input failed: its result, a child's failure.
    struct failed_task {
        std::uint64_t id;
        bytes error;  // an encoded task_error (sched::outcome::child_failed)
    };

    // Each call below returns how many tasks it made ready (they count as tasks in hand).
    //
    // Takes the tasks of a batch in. An input made here that has already finished is taken
    // from the kept or recent results if it is still there; a task that misses one
    // (`unfinished_here` says no, and it is not among them) goes to `returned`, for rank 0.
    std::size_t accept(wire::pending_batch& batch,
                       const std::function<bool(std::uint64_t)>& unfinished_here,
                       std::vector<std::uint64_t>& returned);
    // Task `id` finished here (`status`, `payload` as reported to rank 0): the tasks waiting
    // for it get its result, or fail (appended to `failed`, with those waiting for them).
    std::size_t finished(std::uint64_t id, std::uint64_t name_hash, sched::outcome status,
                         std::span<const std::byte> payload, std::vector<failed_task>& failed);
    // Keeps a successful result of a task run here for a while: rank 0 may send a task that
    // takes it just after it finished, before its result reached rank 0. Only once graph
    // tasks have come here: a run without them pays nothing.
    void remember(std::uint64_t id, std::span<const std::byte> result) {
        if (in_use_) keep(id, result);
    }
    // An input made elsewhere, forwarded by rank 0.
    std::size_t forwarded(const wire::forwarded_input& in, std::vector<failed_task>& failed);

    // Some task waits here for `id`'s result: `id` must not move to another worker.
    bool awaited(std::uint64_t id) const { return graph_.has_consumers(id); }
    bool holds(std::uint64_t id) const { return graph_.holds(id); }
    bool ready() const { return !ready_.empty(); }
    bool is_ready(std::uint64_t id) const;
    ready_task take_ready();
    // Gives up the newest ready task (to a thief): its id.
    std::uint64_t take_newest_ready();
    std::size_t waiting() const { return graph_.size(); }

private:
    // `consumer` gets `from`'s result (or fails with `error`); failures spread to the tasks
    // waiting for it.
    void pass(std::uint64_t consumer, std::uint64_t from, bool ok,
              std::span<const std::byte> payload, std::vector<failed_task>& failed);
    void fail(std::uint64_t task, const bytes& error, std::vector<failed_task>& failed);

    int rank_;
    std::string host_;
    sched::task_graph graph_;
    struct kind {
        std::uint64_t name_hash, signature;
        bool keep;
    };
    std::unordered_map<std::uint64_t, kind> kinds_;  // of the tasks waiting
    std::deque<ready_task> ready_;
    // The last results remembered: a ring of at most recent_count, of at most recent_bytes
    // each.
    static constexpr std::size_t recent_count = 64, recent_bytes = 4096;
    struct recent_result {
        std::uint64_t id = 0;
        bool used = false;
        bytes result;
    };
    std::vector<recent_result> recent_ = std::vector<recent_result>(recent_count);
    std::size_t recent_next_ = 0;
    bool in_use_ = false;  // a graph task has come here
    const kept_results& kept_;
    void keep(std::uint64_t id, std::span<const std::byte> result);
    // A finished input's result, if this worker still has it.
    std::optional<std::span<const std::byte>> recalled(std::uint64_t id) const;
};

}  // namespace tide::detail
