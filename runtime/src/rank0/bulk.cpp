// Bulk submissions at rank 0 (driver::map, driver::submit_all): a group per submission
// (rank0/bulk_groups.hpp), its tasks in ranges of one record each, sized by
// sched::range_size. A range goes to a worker as one task_batch entry and comes back as one
// result holding every task's result, packed. Each task keeps an id of its own, (group, index),
// which its future uses; map takes the results range by range and makes no future at all.

#include <algorithm>
#include <exception>

#include "exec/executor.hpp"
#include "exec/run_range.hpp"
#include "platform/log.hpp"
#include "rank0/engine_state.hpp"
#include "tide/scheduler/bulk_ranges.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;
using sched::task_state;

sched::task_id engine_state::record_of(task_id id) {
    if (!bulk_groups::is_bulk(id)) return id;
    std::size_t index;
    const bulk_group* g = bulk.find(id, index);
    if (!g)
        throw error("tide: task " + std::to_string(id) +
                    " of a bulk submission is not known to rank 0 (collected already?)");
    return bulk.place(*g, index).record;
}

void engine_state::split_range(sched::task_id id, sched::task_record& rec,
                               std::vector<sched::task_id>& out) {
    const packed_view args(rec.payload);
    const auto owner = bulk.owner_of(id);
    const std::string history = loss_history.count(id) ? loss_history[id] : std::string{};
    std::vector<sched::task_id> ids;
    ids.reserve(args.size());
    for (std::uint32_t i = 0; i < args.size(); ++i) {
        sched::task_record one;
        one.name_hash = rec.name_hash;
        one.signature = rec.signature;
        const auto a = args.at(i);
        one.payload.assign(a.begin(), a.end());
        one.state = task_state::running;  // as the range was: requeue() takes it from here
        one.owner = rec.owner;
        one.losses = rec.losses;
        one.abandoned = !owner;  // its group has ended: nobody will take its result
        const auto one_id = tasks.insert(std::move(one));
        if (!history.empty()) loss_history[one_id] = history;
        ids.push_back(one_id);
    }
    out.insert(out.end(), ids.begin(), ids.end());
    // Stand-ins waiting for its tasks wait for their own records now.
    if (auto s = stand_ins.find(id); s != stand_ins.end()) {
        for (const auto& [index, sid] : s->second) stand_ins[ids[index]].push_back({0, sid});
        stand_ins.erase(s);
    }
    if (owner) bulk.split(*owner, id, std::move(ids));
    loss_history.erase(id);
    tasks.erase(id);
}

sched::task_id engine_state::input_record(task_id id, std::vector<sched::task_id>& out) {
    std::size_t index;
    const bulk_group* g = bulk.find(id, index);
    const bulk_place place = g ? bulk.place(*g, index) : bulk_place{};
    const sched::task_record* rec = tasks.find(place.record);
    if (!rec)
        throw error(
            "tide: a future passed as a task's input has no task on rank 0 (it was collected "
            "with get(), or belongs to another run)");
    if (!rec->range) return place.record;
    sched::task_record stand_in;
    stand_in.name_hash = rec->name_hash;
    stand_in.signature = rec->signature;
    stand_in.join = true;  // runs nothing, and is not counted: its task is
    stand_in.state = task_state::held;
    const auto sid = tasks.insert(std::move(stand_in));
    names_of_unknown[sid] = name_of(place.record, *rec);  // its errors name the task's function
    out.push_back(sid);
    stand_ins[place.record].push_back({place.index, sid});
    if (finished(place.record)) finish_stand_ins(place.record, *rec, rec->why, rec->payload);
    return sid;
}

void engine_state::finish_stand_ins(sched::task_id id, const sched::task_record& rec,
                                    sched::outcome why, std::span<const std::byte> payload) {
    const auto it = stand_ins.find(id);
    if (it == stand_ins.end()) return;
    const auto waiting = std::move(it->second);
    stand_ins.erase(it);
    for (const auto& [index, sid] : waiting) {
        sched::task_record* s = tasks.find(sid);
        if (!s) continue;
        if (rec.range && why == sched::outcome::ok) {
            const packed_view results(payload);
            complete(sid, *s, static_cast<sched::outcome>(results.status(index)), results.at(index),
                     -1);
        } else {
            complete(sid, *s, why, payload, -1);
        }
    }
}

bool engine_state::range_results_fit(sched::task_id id, sched::task_record& rec,
                                     std::span<const std::byte> results, std::size_t worker) {
    std::string why;
    try {
        const packed_view view(results);
        if (view.size() == sched::tasks_in(rec)) return true;
        why = std::to_string(view.size()) + " results for a range of " +
              std::to_string(sched::tasks_in(rec)) + " tasks";
    } catch (const protocol_error& e) {
        why = e.what();
    }
    protocol_fault(workers[worker].rank, "range " + std::to_string(id) + ": " + why);
    complete(id, rec, sched::outcome::protocol,
             std::span(reinterpret_cast<const std::byte*>(why.data()), why.size()),
             static_cast<int>(worker));
    return false;
}

bytes engine_state::range_element(sched::task_id id, const sched::task_record& rec,
                                  std::uint32_t index) {
    // The whole range failed (its batch was rejected, or it was lost too often).
    if (rec.state == task_state::failed) std::rethrow_exception(failure_of(id, rec));
    const packed_view results(rec.payload);
    const auto element = results.at(index);
    const auto status = static_cast<sched::outcome>(results.status(index));
    if (status != sched::outcome::ok)
        throw error_of(status, element, name_of(id, rec), rank_of(rec.owner), host_of(rec.owner));
    return bytes(element.begin(), element.end());
}

sched::outcome engine_state::run_range_locally(const sched::task_record& rec, bytes& out) {
    clock::time_point at{};
    out = run_range(
        rec.name_hash, rec.signature, rec.payload, at,
        [&](auto&& body, clock::time_point from, std::uint32_t count) {
            return local_tasks->run_framed(rec.name_hash, body, from, count);
        },
        [&](clock::time_point) { local_tasks->drain(); });
    return sched::outcome::ok;
}

bytes engine_state::bulk_result(task_id id, bool take) {
    check_open();
    std::size_t index;
    bulk_group* g = bulk.find(id, index);
    if (!g) throw error("tide: task " + std::to_string(id) + " is not known to rank 0");
    const auto place = bulk.place(*g, index);
    sched::task_record& rec = finished_record(place.record);
    const auto ids = bulk_groups::ids_of(id, *g);
    std::exception_ptr failure;
    bytes out;
    if (rec.range) {
        try {
            out = range_element(place.record, rec, place.index);
        } catch (const task_error&) {
            failure = std::current_exception();
        }
    } else if (rec.state == task_state::failed) {
        failure = failure_of(place.record, rec);
        if (take) tasks.erase(place.record);
    } else if (take) {
        out = std::move(rec.payload);
        tasks.erase(place.record);
    } else {
        out = rec.payload;
    }
    if (take) drop_handle(ids, *g);
    if (failure) std::rethrow_exception(failure);
    return out;
}

void engine_state::release_bulk_task(task_id id) {
    std::size_t index;
    bulk_group* g = bulk.find(id, index);
    if (!g) return;
    const auto place = bulk.place(*g, index);
    if (const auto* rec = tasks.find(place.record); rec && !rec->range)
        release_record(place.record);
    drop_handle(bulk_groups::ids_of(id, *g), *g);
}

void engine_state::drop_handle(const bulk_ids& ids, bulk_group& g) {
    if (--g.handles > 0) return;
    // Every task was taken or dropped: what is left are ranges (a task of its own went with
    // its future).
    for (const auto id : g.records)
        if (const auto* rec = tasks.find(id); rec && rec->range) release_record(id);
    bulk.close(ids);
}

void engine_state::release_group(const bulk_ids& ids) {
    bulk_group* g = bulk.group_of(ids);
    if (!g) return;
    for (const auto id : g->records) release_record(id);
    for (const auto& [range, ids_of_range] : g->split)
        for (const auto id : ids_of_range) release_record(id);
    bulk.close(ids);
}

// ---- the face the templates see ---------------------------------------------------------------

bulk_start engine::begin_bulk(const task_entry& entry, std::size_t count) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    s.check_journalable(entry);
    bulk_start b;
    b.range_bytes = s.cfg.batch_bytes;
    if (count == 0) return b;
    sched::range_inputs in;
    in.tasks = count;
    in.workers = std::max({std::size_t{1}, s.policy.settings().max_workers, s.workers.size()});
    in.prefetch = s.cfg.prefetch;
    if (const auto* d = s.estimator.duration_of(entry.name_hash); d && d->samples > 0)
        in.mean_seconds = d->mean;
    // With a journal every task is looked up and recorded by its own arguments, and a traced
    // run shows every task: one record each, as with submit.
    b.range_size = s.journal || !s.cfg.trace_path.empty() ? 1 : sched::range_size(in);
    b.ids = s.bulk.open(entry, count);
    s.bulk_arriving = clock::now();
    return b;
}

void engine::add_range(const bulk_start& b, bytes packed_args) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    bulk_group* g = s.bulk.group_of(b.ids);
    const auto n = packed_count(packed_args);
    if (n == 1) {
        // A task of its own: a plain record, as from submit.
        const packed_view one(packed_args);
        const auto args = one.at(0);
        s.bulk.add_range(*g, b.ids, s.enqueue(*g->entry, bytes(args.begin(), args.end())), 1,
                         false);
    } else {
        s.bulk.add_range(*g, b.ids, s.enqueue(*g->entry, std::move(packed_args), true), n, true);
    }
    // A large submission starts going out while it is still being encoded (a pump each
    // millisecond); a small one goes at end_bulk, shared out evenly in one step, and the
    // elastic policy sees it whole.
    if (clock::now() - *s.bulk_arriving >= responsive_within) s.stay_responsive();
}

void engine::end_bulk(const bulk_start& b) {
    if (b.ids.count == 0) return;
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    s.bulk.group_of(b.ids)->complete = true;
    s.bulk_arriving.reset();
    s.pump();
    s.wake_dozing_background();
}

void engine::drop_bulk(const bulk_start& b) noexcept {
    if (b.ids.count == 0) return;
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.bulk_arriving.reset();
    if (!s.closed) s.release_group(b.ids);
}

void engine::take_bulk(const bulk_ids& ids,
                       const std::function<void(std::size_t, std::span<const std::byte>)>& each) {
    if (ids.count == 0) return;
    auto& s = *state_;
    std::exception_ptr first_failure;
    // Results of one range, taken out under the lock and handed over outside it.
    struct taken {
        std::size_t first;
        bytes payload;
        bool range;
    };
    std::vector<taken> batch;
    try {
        for (std::size_t r = 0;; ++r) {
            for (;;) {  // wait until every record of range r has its result here
                sched::task_id pending = sched::no_task;
                {
                    std::lock_guard lock(s.mu);
                    s.check_open();
                    const bulk_group* g = s.bulk.group_of(ids);
                    if (r >= g->records.size()) break;
                    for (const auto id : bulk_groups::records_of(*g, r))
                        if (!s.result_here(id)) {
                            pending = id;
                            break;
                        }
                }
                if (pending == sched::no_task) break;
                wait_until(pending, clock::time_point::max());
            }
            batch.clear();
            {
                std::lock_guard lock(s.mu);
                bulk_group* g = s.bulk.group_of(ids);
                if (r >= g->records.size()) break;
                std::size_t first = g->firsts[r];
                for (const auto id : bulk_groups::records_of(*g, r)) {
                    sched::task_record& rec = s.finished_record(id);
                    if (rec.state == task_state::failed) {
                        if (!first_failure) first_failure = s.failure_of(id, rec);
                    } else if (rec.range) {
                        const packed_view results(rec.payload);
                        for (std::uint32_t i = 0; i < results.size() && !first_failure; ++i)
                            if (results.status(i) != 0)
                                first_failure = std::make_exception_ptr(
                                    error_of(static_cast<sched::outcome>(results.status(i)),
                                             results.at(i), s.name_of(id, rec),
                                             s.rank_of(rec.owner), s.host_of(rec.owner)));
                        batch.push_back({first, std::move(rec.payload), true});
                    } else {
                        batch.push_back({first, std::move(rec.payload), false});
                    }
                    s.bulk.forget_range(id);
                    s.tasks.erase(id);
                    ++first;  // a range is alone in `records`; split ones are a task each
                }
            }
            for (const auto& t : batch) {
                if (!t.range) {
                    each(t.first, t.payload);
                    continue;
                }
                const packed_view results(t.payload);
                for (std::uint32_t i = 0; i < results.size(); ++i)
                    if (results.status(i) == 0) each(t.first + i, results.at(i));
            }
        }
    } catch (...) {
        std::lock_guard lock(s.mu);
        if (!s.closed) s.release_group(ids);
        throw;
    }
    {
        std::lock_guard lock(s.mu);
        s.bulk.close(ids);
    }
    if (first_failure) std::rethrow_exception(first_failure);
}

}  // namespace tide::detail
