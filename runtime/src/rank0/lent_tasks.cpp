#include "rank0/lent_tasks.hpp"

#include <utility>

#include "protocol/messaging.hpp"

namespace tide::detail {

bool lent_tasks::forward(sched::task_id id, sched::outcome status,
                         std::span<const std::byte> payload, const worker_info& ran_on) {
    const auto origin = origins_.find(id);
    if (origin == origins_.end()) return false;
    auto& writer = writers_[origin->second.worker];
    if (!writer)
        writer.emplace(out_[origin->second.worker], static_cast<std::uint32_t>(ran_on.rank),
                       ran_on.host);
    writer->add(origin->second.token, status, payload);
    origins_.erase(origin);
    return true;
}

void lent_tasks::send(transport& net, const worker_pool& workers, bool shutting_down) {
    for (std::size_t origin = 0; origin < writers_.size(); ++origin)
        if (writers_[origin]) {
            writers_[origin].reset();
            bytes out = std::exchange(out_[origin], {});
            const worker_info& w = workers[origin];
            if (shutting_down || w.gone() || w.phase == sched::worker_phase::retiring) continue;
            send_built<wire::child_results_writer>(net, w.rank, std::move(out));
        }
}

void lent_tasks::forget_origin(std::size_t origin, sched::task_table& tasks) {
    for (auto it = origins_.begin(); it != origins_.end();)
        if (it->second.worker == origin) {
            if (auto* rec = tasks.find(it->first)) rec->abandoned = true;
            it = origins_.erase(it);
        } else {
            ++it;
        }
    writers_[origin].reset();
    out_[origin].clear();
}

}  // namespace tide::detail
