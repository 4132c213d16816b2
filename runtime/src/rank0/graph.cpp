// Task graphs on rank 0: the driver's tasks that take other tasks' results wait in
// engine_state::graph until their last input finishes, then start like any task. Readiness is
// counted here, where they were submitted, as results come in: no step of a graph waits for
// the driver.

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "exec/executor.hpp"
#include "protocol/messaging.hpp"
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
        if (!bulk_groups::is_bulk(in.from) && !tasks.find(in.from))
            throw error(
                "tide: a future passed as a task's input has no task on rank 0 (it was "
                "collected with get(), or belongs to another run)");
    // A task of a bulk submission is the input through its record, or a stand-in for it.
    std::vector<sched::task_id> made;
    struct forget_stand_ins {  // once the task is held, or if it could not be
        engine_state& s;
        const std::vector<sched::task_id>& ids;
        ~forget_stand_ins() {
            for (const auto id : ids) s.release_record(id);
        }
    } stand_ins_go{*this, made};
    for (auto& in : inputs)
        if (bulk_groups::is_bulk(in.from)) in.from = input_record(in.from, made);
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
    for (const auto& in : inputs) {
        // A result kept on a worker stays missing here: the task may go to wait there.
        if (finished(in.from) && !tasks.find(in.from)->kept) ended.push_back(in.from);
        observer.edge(in.from, id);
    }
    graph.hold(id, std::move(literal), std::move(inputs));
    // Inputs that finished before: their results are passed on now, as if they just had.
    for (const auto producer : ended) {
        if (!graph.holds(id)) break;  // one of them failed
        const auto& p = *tasks.find(producer);
        feed_consumers(producer, p.why, p.payload, p.owner);
    }
    if (graph.holds(id)) send_ahead({id});
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
    std::vector<sched::task_id> placeable;  // held, and may go ahead now
    const auto pass_on = [&](sched::task_id from, sched::outcome status,
                             std::span<const std::byte> result, int ran_on) {
        std::optional<bytes> failure;
        for (const auto consumer : graph.take_consumers(from)) {
            if (!graph.holds(consumer)) continue;  // failed by another input
            sched::task_record& rec = *tasks.find(consumer);
            if (rec.state == task_state::done) {
                // It ran where its inputs are kept, and keeps its result there: the graph holds
                // its inputs as its lineage, which whole arguments here now replace. An input
                // made again that failed breaks it: its result comes here while it can.
                if (status != sched::outcome::ok) {
                    // Its result cannot be made again: if its worker is lost before the fetch
                    // comes, it fails with this input's error (see remake).
                    if (!failure) failure = failure_for_consumers(from, status, result, ran_on);
                    rec.why = sched::outcome::child_failed;
                    rec.payload = *failure;
                    for (const auto in : graph.drop(consumer)) maybe_unneeded.push_back(in);
                    fetch_result(consumer);
                } else if (graph.arrived(consumer, from, result)) {
                    rec.payload = graph.arguments(consumer);
                }
                continue;
            }
            // Sent ahead: its worker runs it (or fails it). It gets the inputs made elsewhere;
            // rank 0 keeps them too, to run it again if that worker is lost.
            const bool ahead = rec.ahead;
            const bool elsewhere = ahead && rec.owner != ran_on;
            if (status != sched::outcome::ok) {
                if (!failure) failure = failure_for_consumers(from, status, result, ran_on);
                for (const auto in : graph.drop(consumer)) maybe_unneeded.push_back(in);
                if (!ahead) {
                    complete(consumer, rec, sched::outcome::child_failed, *failure, -1);
                    continue;
                }
                rec.why = sched::outcome::child_failed;  // if its worker is lost meanwhile
                rec.payload = *failure;
                if (elsewhere) forward_input(consumer, rec.owner, from, true, *failure);
            } else {
                if (elsewhere) forward_input(consumer, rec.owner, from, false, result);
                if (!graph.arrived(consumer, from, result)) {
                    // What it still misses may all be kept on a worker: it may go there now.
                    if (!ahead && !kept.empty()) placeable.push_back(consumer);
                    continue;
                }
                bytes args = graph.arguments(consumer);
                if (ahead) {
                    rec.payload = std::move(args);
                } else if (rec.join) {
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
    if (!placeable.empty()) send_ahead(std::move(placeable));
    flush_forwards();
}

void engine_state::forward_input(sched::task_id task, int worker, sched::task_id from, bool failed,
                                 std::span<const std::byte> result) {
    ++counters.inputs_forwarded;
    auto& msg = forwards[static_cast<std::size_t>(worker)];
    msg.inputs.push_back({task, from, failed ? 1u : 0u, bytes(result.begin(), result.end())});
}

void engine_state::flush_forwards() {
    for (auto& [w, msg] : forwards)
        if (!msg.inputs.empty() && !workers[w].gone())
            send_message(net, workers[w].rank, std::move(msg));
    forwards.clear();
}

bool engine_state::only_kept_missing(sched::task_id id) const {
    const auto missing = graph.missing_inputs(id);
    return std::all_of(missing.begin(), missing.end(), [&](sched::task_id in) {
        const auto* rec = tasks.find(in);
        return rec && rec->kept;
    });
}

std::optional<std::size_t> engine_state::ahead_target(sched::task_id id) {
    // Only while every input it misses is on its way on some worker (running, or waiting
    // there itself).
    const auto missing = graph.missing_inputs(id);
    placement_scratch.assign(workers.size(), {});
    for (const auto from : missing) {
        const auto* rec = tasks.find(from);
        if (rec && rec->kept) {
            // Kept on a worker, and staying there (not on its way here).
            const auto& k = kept.at(from);
            if (k.holder < 0 || k.fetching) return std::nullopt;
            auto& w = placement_scratch[static_cast<std::size_t>(k.holder)];
            ++w.inputs_made;
            w.input_bytes += k.size;
            continue;
        }
        if (!rec || rec->state != task_state::running || rec->owner < 0 || rec->lent)
            return std::nullopt;
        ++placement_scratch[static_cast<std::size_t>(rec->owner)].inputs_made;
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const worker_info& w = workers[i];
        placement_scratch[i].usable = !w.gone() && w.phase == sched::worker_phase::active &&
                                      w.load.accepting && !w.isolating && w.ahead < cfg.prefetch;
        placement_scratch[i].backlog = w.holding();
    }
    // Before the first of its kind has finished, a task is guessed to take a hop's time.
    const auto* d = estimator.duration_of(tasks.find(id)->name_hash);
    const double task_seconds = d && d->samples > 0 ? d->latest : forward_hop_seconds;
    return sched::choose_graph_worker(placement_scratch, missing.size(), task_seconds,
                                      {forward_hop_seconds, forward_byte_seconds});
}

void engine_state::send_ahead(std::vector<sched::task_id> candidates) {
    // A journal with results answers a task by its whole arguments, which only rank 0 sees:
    // resuming, every task waits here to be looked up.
    if (shutting_down || (journal && journal->has_results())) return;
    std::unordered_map<std::size_t, wire::pending_batch> out;  // by worker
    // Kept inputs to forward, fetched once the batches are out: a fetch sent first would take
    // a result from its worker before a batch there that reads it in place.
    std::vector<sched::task_id> to_fetch;
    while (!candidates.empty()) {
        const auto id = candidates.back();
        candidates.pop_back();
        sched::task_record* rec = tasks.find(id);
        if (!rec || rec->state != task_state::held || !graph.holds(id)) continue;
        const auto target = rec->join ? std::nullopt : ahead_target(id);
        if (!target) {
            // It waits here: for inputs kept on workers once nothing else is missing (a join
            // at once: it never goes ahead). Until then its place may still change.
            if (!kept.empty() && (rec->join || only_kept_missing(id))) need_inputs(id);
            continue;
        }
        auto [args, missing] = graph.partial(id);
        wire::pending_task t{id, rec->name_hash, rec->signature, std::move(args), {}};
        for (const auto& in : missing) {
            const auto* maker = tasks.find(in.from);
            const bool local = maker->owner == static_cast<int>(*target);
            if (maker->kept && !local) to_fetch.push_back(in.from);
            t.inputs.push_back({in.at == sched::task_graph::input::order_only
                                    ? wire::graph_input::order_only
                                    : static_cast<std::uint64_t>(in.at),
                                in.from, local ? 1u : 0u});
        }
        auto& batch = out[*target];
        if (batch.tasks.empty()) {
            batch.seq = next_seq++;
            batch.keep = keeping() ? 1u : 0u;
        }
        batch.tasks.push_back(std::move(t));
        rec->state = task_state::running;
        rec->owner = static_cast<int>(*target);
        rec->batch = batch.seq;
        rec->ahead = true;
        ++workers[*target].ahead;  // not in hand: it cannot run before its inputs
        ++counters.sent_ahead;
        // Its own consumers may wait on this worker now.
        for (const auto c : graph.consumers_of(id)) candidates.push_back(c);
    }
    for (auto& [w, batch] : out) {
        worker_info& info = workers[w];
        const auto seq = batch.seq;
        send_message(net, info.rank, std::move(batch));
        info.batches.sent(seq, net.sent_to(info.rank));
        ++counters.batches_sent;
    }
    for (const auto id : to_fetch) fetch_result(id);
}

void engine_state::accept_bounced(std::size_t worker, const wire::pending_bounced& b) {
    std::vector<sched::task_id> back;
    for (const auto id : b.ids) {
        const auto* rec = tasks.find(id);
        if (!rec || !rec->ahead || rec->state != task_state::running ||
            rec->owner != static_cast<int>(worker)) {
            protocol_fault(workers[worker].rank, "returned graph task " + std::to_string(id) +
                                                     ", which it does not hold");
            continue;
        }
        let_go(*tasks.find(id), worker);
        back.push_back(id);
    }
    counters.ahead_returned += back.size();
    requeue(back);  // held again if inputs are missing, else queued with all of them
}

bytes engine_state::failure_for_consumers(sched::task_id producer, sched::outcome why,
                                          std::span<const std::byte> payload, int worker) {
    const auto* rec = tasks.find(producer);
    const std::string name = rec ? name_of(producer, *rec) : "task " + std::to_string(producer);
    return error_for_dependents(why, payload, name, rank_of(worker), host_of(worker));
}

}  // namespace tide::detail
