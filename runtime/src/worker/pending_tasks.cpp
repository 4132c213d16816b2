#include "worker/pending_tasks.hpp"

#include <utility>

#include "exec/executor.hpp"
#include "tide/detail/registry.hpp"

namespace tide::detail {

std::size_t pending_tasks::accept(wire::pending_batch& batch,
                                  const std::function<bool(std::uint64_t)>& unfinished_here,
                                  std::vector<std::uint64_t>& returned) {
    in_use_ = true;
    const std::size_t before = ready_.size();
    std::vector<std::pair<std::uint64_t, std::span<const std::byte>>> arrived;
    for (auto& t : batch.tasks) {
        bool missed = false;
        arrived.clear();
        std::vector<sched::task_graph::input> inputs;
        for (const auto& in : t.inputs) {
            // An input made here must still be to come (or wait here itself), or be among the
            // kept or recent results: one that has finished sent its result (or word that it
            // keeps it) to rank 0 before this task came, and rank 0 does not forward it here.
            if (in.local && !unfinished_here(in.from) && !graph_.holds(in.from)) {
                const auto r = recalled(in.from);
                if (!r)
                    missed = true;
                else
                    arrived.emplace_back(in.from, *r);
            }
            inputs.push_back({static_cast<std::size_t>(in.at), in.from});
        }
        if (missed || inputs.empty()) {
            returned.push_back(t.id);
            continue;
        }
        graph_.hold(t.id, std::move(t.arguments), std::move(inputs));
        kinds_[t.id] = {t.name_hash, t.signature, batch.keep != 0};
        std::vector<failed_task> none;  // a recent result is a success
        for (const auto& [from, result] : arrived) pass(t.id, from, true, result, none);
    }
    return ready_.size() - before;
}

std::size_t pending_tasks::finished(std::uint64_t id, std::uint64_t name_hash,
                                    sched::outcome status, std::span<const std::byte> payload,
                                    std::vector<failed_task>& failed) {
    if (!graph_.has_consumers(id)) return 0;
    const std::size_t before = ready_.size();
    const bool ok = status == sched::outcome::ok;
    bytes error;
    if (!ok) {
        const auto* entry = registry::instance().by_hash(name_hash);
        error = error_for_dependents(
            status, payload, entry ? entry->name : "task " + std::to_string(id), rank_, host_);
    }
    for (const auto consumer : graph_.take_consumers(id))
        pass(consumer, id, ok, ok ? payload : std::span<const std::byte>(error), failed);
    return ready_.size() - before;
}

std::size_t pending_tasks::forwarded(const wire::forwarded_input& in,
                                     std::vector<failed_task>& failed) {
    if (!graph_.holds(in.task)) return 0;  // returned to rank 0, or failed meanwhile
    const std::size_t before = ready_.size();
    pass(in.task, in.from, in.failed == 0, in.result, failed);
    return ready_.size() - before;
}

void pending_tasks::pass(std::uint64_t consumer, std::uint64_t from, bool ok,
                         std::span<const std::byte> payload, std::vector<failed_task>& failed) {
    if (!graph_.holds(consumer)) return;
    if (!ok) {
        fail(consumer, bytes(payload.begin(), payload.end()), failed);
        return;
    }
    if (!graph_.arrived(consumer, from, payload)) return;
    const auto k = kinds_.at(consumer);
    kinds_.erase(consumer);
    ready_.push_back({consumer, k.name_hash, k.signature, graph_.arguments(consumer), k.keep});
}

void pending_tasks::fail(std::uint64_t task, const bytes& error, std::vector<failed_task>& failed) {
    // Those waiting for a failed task fail with the same error, which names the task that
    // failed first: a work list, so a long chain takes no stack.
    std::vector<std::uint64_t> work{task};
    while (!work.empty()) {
        const auto t = work.back();
        work.pop_back();
        if (!graph_.holds(t)) continue;
        graph_.drop(t);
        kinds_.erase(t);
        failed.push_back({t, error});
        for (const auto c : graph_.take_consumers(t)) work.push_back(c);
    }
}

void pending_tasks::keep(std::uint64_t id, std::span<const std::byte> result) {
    if (result.size() > recent_bytes) return;
    auto& slot = recent_[recent_next_];
    recent_next_ = (recent_next_ + 1) % recent_.size();
    slot.id = id;
    slot.used = true;
    slot.result.assign(result.begin(), result.end());
}

std::optional<std::span<const std::byte>> pending_tasks::recalled(std::uint64_t id) const {
    if (kept_.count() > 0)
        if (auto r = kept_.find(id)) return r;
    for (const auto& r : recent_)
        if (r.used && r.id == id) return std::span<const std::byte>(r.result);
    return std::nullopt;
}

bool pending_tasks::is_ready(std::uint64_t id) const {
    for (const auto& t : ready_)
        if (t.id == id) return true;
    return false;
}

pending_tasks::ready_task pending_tasks::take_ready() {
    ready_task t = std::move(ready_.front());
    ready_.pop_front();
    return t;
}

std::uint64_t pending_tasks::take_newest_ready() {
    const auto id = ready_.back().id;
    ready_.pop_back();
    return id;
}

}  // namespace tide::detail
