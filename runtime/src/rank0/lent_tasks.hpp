#pragma once
// Nested tasks that a worker lent to a thief, through rank 0 (a steal took them from the
// victim's deque): rank 0 gives each a task id of its own, and its outcome goes back to the
// worker that lent it, where its future is. Outcomes for one origin are gathered into one
// child_results message per pump.

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "mpi/transport.hpp"
#include "protocol/wire.hpp"
#include "rank0/worker_pool.hpp"
#include "tide/scheduler/task_table.hpp"

namespace tide::detail {

class lent_tasks {
public:
    void resize(std::size_t workers) {
        out_.resize(workers);
        writers_.resize(workers);
    }
    bool empty() const { return origins_.empty(); }

    // Rank-0 task `id` is the nested task `token` of worker `origin`.
    void lend(sched::task_id id, std::size_t origin, std::uint64_t token) {
        origins_.emplace(id, origin_of{origin, token});
    }
    // If `id` is a lent task, its outcome (it ran on `ran_on`) joins the message for its
    // origin and it is forgotten here: true. False for any other task.
    bool forward(sched::task_id id, sched::outcome status, std::span<const std::byte> payload,
                 const worker_info& ran_on);
    // Sends what was gathered since the last call: not once the run is ending (nobody waits
    // for it then), nor to a worker that has left or is leaving (it would never complete).
    void send(transport& net, const worker_pool& workers, bool shutting_down);
    // A lost origin: the tasks it lent are orphans (marked abandoned in `tasks`: their results
    // are dropped when they come), and nothing gathered for it goes out.
    void forget_origin(std::size_t origin, sched::task_table& tasks);

private:
    struct origin_of {
        std::size_t worker;
        std::uint64_t token;
    };
    std::unordered_map<sched::task_id, origin_of> origins_;
    std::vector<bytes> out_;  // per origin worker
    std::vector<std::optional<wire::child_results_writer>> writers_;
};

}  // namespace tide::detail
