// Results kept on the workers that made them (--tide-keep-results). A large result of the
// driver's task stays on its worker; rank 0 records where (engine_state::kept) and how big.
// - The graph tasks that take it wait on that worker when they can (placement weighs the
//   bytes), and read it there: it never crosses rank 0.
// - get(), and a task that waits on rank 0 or on another worker, fetch it: it then lives on
//   rank 0 like any result, and the worker forgets it.
// - Once neither its future nor a task that has not run wants it, its worker frees it. Rank 0
//   keeps the record as long as a kept result made from it may have to be made again.
// - A worker lost (or retired) loses what it kept: whatever is still wanted is made again,
//   from the arguments rank 0 holds, or from its inputs, made again in turn (lineage).
#include <algorithm>
#include <unordered_map>

#include "platform/log.hpp"
#include "protocol/messaging.hpp"
#include "rank0/engine_state.hpp"

namespace tide::detail {

using sched::task_state;

void engine_state::keep_result(sched::task_id id, sched::task_record& rec, std::size_t worker,
                               std::uint64_t size) {
    count_end(id, rec, sched::outcome::ok, static_cast<int>(worker));
    ++counters.results_kept;
    counters.kept_bytes += size;
    rec.state = task_state::done;
    rec.why = sched::outcome::ok;
    rec.owner = static_cast<int>(worker);
    rec.kept = true;
    kept[id] = {static_cast<int>(worker), size, false};
    // It ran while rank 0 still missed inputs kept where it ran: it stays in the graph, which
    // remembers them, as its lineage. Those inputs may be released now that it has run.
    if (graph.holds(id))
        for (const auto in : graph.missing_inputs(id)) maybe_unneeded.push_back(in);
    maybe_unneeded.push_back(id);
    if (!graph.has_consumers(id)) return;
    // Its consumers: those held here may go to wait on its worker now, or need it fetched;
    // those waiting ahead on another worker need it forwarded.
    std::vector<sched::task_id> held;
    for (const auto c : graph.consumers_of(id)) {
        const sched::task_record* crec = tasks.find(c);
        if (crec->state == task_state::held) {
            held.push_back(c);
        } else if (crec->ahead && crec->owner != rec.owner) {
            fetch_result(id);
        }
    }
    send_ahead(std::move(held));
}

void engine_state::fetch_result(sched::task_id id) {
    auto& k = kept.at(id);
    // After shutdown a worker takes no message any more (one left would outlive the run).
    if (k.fetching || k.holder < 0 || shutting_down) return;
    k.fetching = true;
    ++fetches_in_flight;
    send_message(net, workers[static_cast<std::size_t>(k.holder)].rank, wire::fetch_results{{id}});
}

void engine_state::accept_fetched(std::size_t worker, wire::fetched_results& f) {
    std::vector<sched::task_id> lost;
    for (auto& r : f.results) {
        sched::task_record* rec = tasks.find(r.id);
        const auto it = kept.find(r.id);
        // Made again meanwhile (its worker was taken for lost), or not asked for.
        if (!rec || !rec->kept || it == kept.end() ||
            it->second.holder != static_cast<int>(worker) || !it->second.fetching)
            continue;
        it->second.fetching = false;
        --fetches_in_flight;
        if (r.found == 0) {
            log().error(
                "worker rank {} no longer has the result of task {} that it kept; it is "
                "made again",
                workers[worker].rank, r.id);
            it->second.holder = -1;
            lost.push_back(r.id);
            continue;
        }
        ++counters.results_fetched;
        counters.fetched_bytes += r.result.size();
        kept.erase(it);
        rec->kept = false;
        rec->why = sched::outcome::ok;  // a failed input's error kept for remake() is moot
        // Rank 0 holds it now: no lineage is needed for it any more.
        for (const auto in : graph.drop(r.id)) maybe_unneeded.push_back(in);
        // The tasks waiting ahead on its worker read it there; the others get it now.
        feed_consumers(r.id, sched::outcome::ok, r.result, static_cast<int>(worker));
        rec = tasks.find(r.id);  // feeding does not erase it; the table never moves a record
        if (rec->abandoned) {
            tasks.erase(r.id);
        } else {
            rec->payload = std::move(r.result);
        }
    }
    remake(std::move(lost));
    release_unneeded();
}

void engine_state::need_inputs(sched::task_id consumer) {
    std::vector<sched::task_id> gone;
    need_inputs(consumer, gone);
    remake(std::move(gone));
}

void engine_state::need_inputs(sched::task_id consumer, std::vector<sched::task_id>& gone) {
    const sched::task_record* crec = tasks.find(consumer);
    for (const auto in : graph.missing_inputs(consumer)) {
        const sched::task_record* rec = tasks.find(in);
        if (!rec || !rec->kept) continue;
        const auto& k = kept.at(in);
        if (k.holder < 0) {
            gone.push_back(in);
        } else if (!(crec->ahead && crec->owner == k.holder)) {
            fetch_result(in);
        }
    }
}

void engine_state::remake(std::vector<sched::task_id> ids) {
    while (!ids.empty()) {
        const auto id = ids.back();
        ids.pop_back();
        sched::task_record* rec = tasks.find(id);
        if (!rec || !rec->kept || kept.at(id).holder >= 0) continue;  // remade already
        kept.erase(id);
        rec->kept = false;
        rec->owner = -1;
        ++counters.results_remade;
        ++counters.tasks_rerun;
        ++counters.driver_tasks_rerun;
        --counters.completed;  // it counts again when it finishes again
        if (rec->why != sched::outcome::ok) {
            // Its lineage was broken by an input that failed when made again: it fails too.
            const bytes error = std::move(rec->payload);
            rec->state = task_state::running;
            complete(id, *rec, rec->why, error, -1);
            continue;
        }
        if (!graph.holds(id)) {
            // Its arguments are whole here.
            rec->state = task_state::queued;
            estimator.queued_centrally(rec->name_hash, 1);
            queue.put_back(std::span<const sched::task_id>(&id, 1), tasks);
            continue;
        }
        // It waits for its inputs again; those no worker has are made again too (by this
        // loop: a chain of any length takes no stack).
        rec->state = task_state::held;
        need_inputs(id, ids);
    }
}

void engine_state::lose_kept(std::size_t worker) {
    std::vector<sched::task_id> wanted;
    for (auto& [id, k] : kept) {
        if (k.holder != static_cast<int>(worker)) continue;
        if (k.fetching) --fetches_in_flight;
        k.fetching = false;
        k.holder = -1;
        if (bytes_wanted(id, *tasks.find(id))) {
            wanted.push_back(id);
        } else {
            maybe_unneeded.push_back(id);
        }
    }
    std::sort(wanted.begin(), wanted.end());  // submission order, mostly
    remake(std::move(wanted));
    release_unneeded();
}

bool engine_state::keeps_results(std::size_t worker) const {
    return std::any_of(kept.begin(), kept.end(), [&](const auto& entry) {
        return entry.second.holder == static_cast<int>(worker);
    });
}

bool engine_state::result_here(sched::task_id id) {
    const sched::task_record* rec = tasks.find(id);
    if (!rec) return true;
    if (rec->kept) {
        fetch_result(id);
        return false;
    }
    return rec->state == task_state::done || rec->state == task_state::failed;
}

bool engine_state::bytes_wanted(sched::task_id id, const sched::task_record& rec) const {
    if (!rec.abandoned) return true;
    const auto& consumers = graph.consumers_of(id);
    return std::any_of(consumers.begin(), consumers.end(), [&](sched::task_id c) {
        const sched::task_record* crec = tasks.find(c);
        return crec && crec->state != task_state::done;
    });
}

void engine_state::release_unneeded() {
    if (shutting_down) {  // the workers end, with what they keep
        maybe_unneeded.clear();
        return;
    }
    std::unordered_map<std::size_t, wire::release_results> out;  // by worker
    while (!maybe_unneeded.empty()) {
        const auto id = maybe_unneeded.back();
        maybe_unneeded.pop_back();
        sched::task_record* rec = tasks.find(id);
        if (!rec || !rec->kept) continue;
        auto& k = kept.at(id);
        if (k.fetching || bytes_wanted(id, *rec)) continue;  // a fetch settles it when it comes
        if (k.holder >= 0) {
            const auto w = static_cast<std::size_t>(k.holder);
            if (!workers[w].gone()) out[w].ids.push_back(id);
            k.holder = -1;
            ++counters.results_released;
        }
        // The record stays while a kept result made from it may have to be made again.
        if (graph.has_consumers(id)) continue;
        for (const auto in : graph.drop(id)) maybe_unneeded.push_back(in);
        kept.erase(id);
        tasks.erase(id);
    }
    for (auto& [w, msg] : out) send_message(net, workers[w].rank, std::move(msg));
}

}  // namespace tide::detail
