// Task graphs on rank 0: the driver's tasks that take other tasks' results wait in
// engine_state::graph until their last input finishes, then start like any task. Readiness is
// counted here, where they were submitted, as results come in: no step of a graph waits for
// the driver.

#include <utility>

#include "exec/executor.hpp"
#include "rank0/engine_state.hpp"

namespace tide::detail {

using sched::task_state;

std::string engine_state::name_of(sched::task_id id, const sched::task_record& rec) const {
    if (auto it = names_of_unknown.find(id); it != names_of_unknown.end()) return it->second;
    if (rec.join) return "tide::when_all";
    if (const auto* entry = registry::instance().by_hash(rec.name_hash)) return entry->name;
    return "task " + std::to_string(id);
}

sched::task_id engine_state::enqueue_after(const task_entry* entry, bytes literal,
                                           std::vector<sched::task_graph::input> inputs) {
    if (entry) check_journalable(*entry);
    for (const auto& in : inputs)
        if (!tasks.find(in.from))
            throw error(
                "tide: a future passed as a task's input has no task on rank 0 (it was "
                "collected with get(), or belongs to another run)");
    sched::task_record rec;
    if (entry) {
        rec.name_hash = entry->name_hash;
        rec.signature = entry->sig->hash;
        ++counters.submitted;
    } else {
        rec.join = true;
    }
    rec.state = task_state::held;
    const auto id = tasks.insert(std::move(rec));
    if (inputs.empty()) {
        if (entry) {
            start(id, *tasks.find(id), std::move(literal));
        } else {
            complete(id, *tasks.find(id), sched::outcome::ok, literal, -1);
        }
        return id;
    }
    std::vector<sched::task_id> ended;
    for (const auto& in : inputs)
        if (finished(in.from)) ended.push_back(in.from);
    graph.hold(id, std::move(literal), std::move(inputs));
    // Inputs that finished before: their results are passed on now, as if they just had.
    for (const auto producer : ended) {
        if (!graph.holds(id)) break;  // one of them failed
        const auto& p = *tasks.find(producer);
        feed_consumers(producer, p.why, p.payload, p.owner);
    }
    return id;
}

void engine_state::feed_consumers(sched::task_id producer, sched::outcome why,
                                  std::span<const std::byte> payload, int worker) {
    if (!graph.has_consumers(producer)) return;
    if (feeding) {  // a task that ended while a result is being passed on: its turn comes next
        graph_work.push_back({producer, why, bytes(payload.begin(), payload.end())});
        return;
    }
    feeding = true;
    struct done_feeding {
        engine_state& s;
        ~done_feeding() {
            s.feeding = false;
            s.graph_work.clear();
        }
    } guard{*this};
    const auto pass_on = [&](sched::task_id from, sched::outcome status,
                             std::span<const std::byte> result, int ran_on) {
        std::optional<bytes> failure;
        for (const auto consumer : graph.take_consumers(from)) {
            if (!graph.holds(consumer)) continue;  // failed by another input
            sched::task_record& rec = *tasks.find(consumer);
            if (status != sched::outcome::ok) {
                if (!failure) failure = failure_for_consumers(from, status, result, ran_on);
                graph.drop(consumer);
                complete(consumer, rec, sched::outcome::child_failed, *failure, -1);
            } else if (graph.arrived(consumer, from, result)) {
                bytes args = graph.arguments(consumer);
                if (rec.join) {
                    complete(consumer, rec, sched::outcome::ok, args, -1);
                } else {
                    start(consumer, rec, std::move(args));
                }
            }
        }
    };
    pass_on(producer, why, payload, worker);
    while (!graph_work.empty()) {
        const auto next = std::move(graph_work.back());
        graph_work.pop_back();
        pass_on(next.id, next.why, next.payload, -1);
    }
}

bytes engine_state::failure_for_consumers(sched::task_id producer, sched::outcome why,
                                          std::span<const std::byte> payload, int worker) {
    // Already a task's error passed on (a child's, or an input's): it names the task that
    // failed first, and goes on unchanged.
    if (why == sched::outcome::child_failed) return bytes(payload.begin(), payload.end());
    const auto* rec = tasks.find(producer);
    const std::string name = rec ? name_of(producer, *rec) : "task " + std::to_string(producer);
    bytes out;
    encode_task_error(error_of(why, payload, name, rank_of(worker), host_of(worker)), out);
    return out;
}

}  // namespace tide::detail
