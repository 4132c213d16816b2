#include <algorithm>
#include <thread>

#include "exec/executor.hpp"
#include "platform/log.hpp"
#include "platform/polling.hpp"
#include "protocol/messaging.hpp"
#include "rank0/engine_state.hpp"
#include "tide/detail/packed_range.hpp"
#include "tide/error.hpp"
#include "tide/scheduler/bulk_ranges.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;
using sched::task_state;

namespace {

// Messages handled per pump, so a flood from one worker cannot starve dispatch.
constexpr int receive_budget = 64;
// The background thread stays out of the way while the driver itself pumped this recently.
constexpr auto driver_active_window = std::chrono::milliseconds(5);

// The background thread's look inside the window of an expected result: it sleeps, unlike a
// waiting driver, since the driver computes meanwhile and may share its core.
constexpr auto background_in_window = std::chrono::microseconds(10);
}  // namespace

engine_state::engine_state(const config& c, transport& n, std::string h, launch_facts launch)
    : cfg(c),
      net(n),
      host(std::move(h)),
      policy(policy_from(c, launch)),
      places(c, n, workers, host),
      started(clock::now()),
      last_tick(started - scaling_tick),
      observer(c, host, launch.by_mpirun, started),
      stealing(n, workers, estimator, places, counters.stealing, counters.steal_round_trips_us),
      last_pump(started) {
    job = launch.job;
    spawned_end_themselves = launch.spawned_end_themselves;
    // Five minutes before the end, or a tenth of the time there is for a short job.
    if (job.ends_at) end_warning_seconds = std::min(300.0, 0.1 * std::max(seconds_left(), 0.0));
    log().info("{}; up to {} worker(s)", job.describe(), policy.settings().max_workers);
    for (int r = 1; r < launch.world_size; ++r) workers.add().joined = started;
    estimator.resize(workers.size());
    // Also with every slot taken at the start: a lost worker is replaced by a spawn.
    // (--tide-max-workers=0 still means never: a test harness cannot be spawned.)
    // Satellites join through the spawner too, also where the allocation has no slot to spare.
    if ((policy.settings().max_workers > 0 || launch.satellite_launch) && cfg.max_workers != 0 &&
        !launch.spawn_command.empty()) {
        if (launch.node_launch)
            nodes = std::make_unique<node_groups>(std::move(*launch.node_launch));
        spawns =
            std::make_unique<spawner>(std::move(launch.spawn_command), std::move(launch.spawn_args),
                                      cfg.spawn_info, cfg.spawn_timeout);
        if (launch.satellite_launch) start_satellites(std::move(*launch.satellite_launch));
    } else if (launch.satellite_launch) {
        log().warn(
            "--tide-satellites: no satellites in this run: --tide-max-workers=0 says rank "
            "0 starts no workers");
    }
    lent.resize(workers.size());
    start_observing();
    places.place_rank0();
    places.report(shutting_down);
    route_messages();
}

// ---- progress ----------------------------------------------------------------------------------

bool engine_state::pump() {
    last_pump = clock::now();
    warn_near_end();
    report_progress();
    bool progressed = net.progress_sends();
    progressed |= receive_some(receive_budget);  // before judging silence: heartbeats may wait
    watch_heartbeats();
    progressed |= dispatch();
    progressed |= broker_steals();
    progressed |= scale();
    if (places.changed()) places.report(shutting_down);
    if (journal) journal->publish(last_pump);  // the results this pump took in, to the writer
    if (!maybe_unneeded.empty()) release_unneeded();
    return progressed;
}

void engine_state::stay_responsive() {
    if (clock::now() - last_pump >= responsive_within) pump();
}

bool engine_state::receive_some(int budget) {
    bool any = false;
    message m;
    for (int i = 0; i < budget && net.try_receive(m); ++i) {
        handle(m);
        net.recycle(std::move(m.body));
        any = true;
    }
    return any;
}

void engine_state::protocol_fault(int source, const std::string& what) {
    ++counters.protocol_errors;
    log().warn("protocol error from rank {} (message dropped, {} so far): {}", source,
               counters.protocol_errors, what);
}

// What rank 0 accepts from a worker, and from whom the worker's rank says.
void engine_state::route_messages() {
    router.on<wire::heartbeat>([](const wire::heartbeat&, std::size_t) {});
    router.on_raw<wire::result_batch_writer>(
        [this](message& m, std::size_t w) { accept_results(w, m.body); });
    router.on_raw<wire::status>([this](message& m, std::size_t w) { accept_status(w, m.body); });
    router.on_raw<wire::spans_writer>(
        [this](message& m, std::size_t w) { accept_spans(w, m.body); });
    router.on<wire::steal_request>(
        [this](const wire::steal_request& r, std::size_t w) { accept_steal_request(w, r); });
    router.on_raw<wire::stolen_writer>(
        [this](message& m, std::size_t w) { accept_stolen(w, m.body); });
    router.on<wire::hello>([this](const wire::hello& h, std::size_t w) { accept_hello(w, h); });
    router.on<wire::pending_bounced>(
        [this](const wire::pending_bounced& b, std::size_t w) { accept_bounced(w, b); });
    router.on_raw<wire::fetched_results>([this](message& m, std::size_t w) {
        auto f = wire::decode<wire::fetched_results>(m.body);
        accept_fetched(w, f);
    });
    router.on<wire::batch_rejected>([this](const wire::batch_rejected& b, std::size_t w) {
        ++counters.protocol_errors;
        fail_running(static_cast<int>(w), b.seq,
                     "the worker rejected the message carrying it: " + b.reason);
    });
    router.on<wire::goodbye>(
        [this](const wire::goodbye& g, std::size_t w) { accept_goodbye(w, g); });
    router.on<wire::topology>([this](const wire::topology& t, std::size_t w) {
        places.accept_topology(w, t, shutting_down);
    });
    router.on<wire::bound>(
        [this](const wire::bound& b, std::size_t w) { places.accept_bound(w, b); });
}

void engine_state::handle(message& m) {
    worker_info* worker = workers.of_rank(m.source);
    if (!worker) {
        protocol_fault(m.source, "message from a rank that is not a worker");
        return;
    }
    // Declared dead: what it still sent counts for nothing.
    if (worker->phase == sched::worker_phase::lost) return;
    worker->last_heard = last_pump;
    worker->heard = true;
    const std::size_t w = workers.index_of(*worker);
    try {
        if (!router.route(m, w))
            protocol_fault(m.source, "unexpected message tag " + std::to_string(m.tag));
    } catch (const protocol_error& e) {
        protocol_fault(m.source, e.what());
        // Results in a frame that does not decode are lost, and with them the count of what
        // the worker holds: fail its tasks now rather than let their futures wait forever.
        if (m.tag == static_cast<int>(wire::msg::result_batch))
            fail_running(
                static_cast<int>(w), std::nullopt,
                "a result message from the worker did not decode: " + std::string(e.what()));
    }
}

void engine_state::accept_steal_request(std::size_t w, const wire::steal_request& r) {
    worker_info& worker = workers[w];
    ++counters.stealing.requests;
    worker.batches.confirm(r.batches_received);
    requeue_lost_batches(w, r.messages_received);
    // Sent before the worker saw batches on their way to it: it will ask again if it runs dry
    // after them.
    if (worker.batches.has_all(r.batches_received) && worker.phase != sched::worker_phase::parked &&
        worker.phase != sched::worker_phase::retiring) {
        if (!worker.hungry) worker.idle_since = clock::now();
        worker.hungry = true;
    }
}

void engine_state::accept_hello(std::size_t w, const wire::hello& h) {
    worker_info& worker = workers[w];
    worker.host = h.host;
    if (h.version != wire::protocol_version) {
        log().error("rank {} speaks protocol {}, rank 0 speaks {}: not using it", worker.rank,
                    h.version, wire::protocol_version);
        worker.load.accepting = false;
        worker.rejected = true;
    }
    log().debug("worker rank {} is up on {} (pid {})", worker.rank, h.host, h.pid);
}

void engine_state::accept_goodbye(std::size_t w, const wire::goodbye& g) {
    worker_info& worker = workers[w];
    worker.farewell = g;
    worker.enter(sched::phase_event::goodbye);
    worker.load.accepting = false;
    places.leave(w);
    left_pool(w, last_pump);
    if (!shutting_down) lose_kept(w);  // what it kept left with it
    // Only idle workers retire, so this is a worker that left on its own: what it held will
    // not come back.
    if (!shutting_down && worker.holding() > 0)
        fail_running(static_cast<int>(w), std::nullopt, "the worker left the run");
}

void engine_state::accept_results(std::size_t w, std::span<const std::byte> body) {
    worker_info& worker = workers[w];
    worker.last_result = last_pump;
    wire::decode_result_batch(body, results_scratch);
    const auto finished_before = counters.completed + counters.failed;
    for (const auto& r : results_scratch) {
        sched::task_record* rec = tasks.find(r.id);
        const bool held =
            rec && rec->state == task_state::running && rec->owner == static_cast<int>(w);
        if (!held || (r.kept && (rec->lent || rec->range))) {
            protocol_fault(worker.rank,
                           held ? "kept the result of lent task or range " + std::to_string(r.id)
                                : "result for task " + std::to_string(r.id) +
                                      " which that worker does not hold");
            // A result it keeps for nothing: it may free it.
            if (r.kept && !shutting_down)
                send_message(net, worker.rank, wire::release_results{{r.id}});
            continue;
        }
        if (rec->range && !range_results_fit(r.id, *rec, r.payload, w)) continue;
        worker.results += sched::tasks_in(*rec);
        if (r.kept) {
            keep_result(r.id, *rec, w, *r.kept);
        } else if (!forward_if_lent(r.id, r.status, r.payload, w)) {
            complete(r.id, *rec, r.status, r.payload, static_cast<int>(w));
        }
    }
    lent.send(net, workers, shutting_down);
    // The driver's tasks that finished arrived during this pump, not at its start.
    if (counters.completed + counters.failed != finished_before) last_finish = clock::now();
}

bool engine_state::forward_if_lent(sched::task_id id, sched::outcome status,
                                   std::span<const std::byte> payload, std::size_t ran_on) {
    // Most runs lend nothing: no call per result then.
    if (lent.empty() || !lent.forward(id, status, payload, workers[ran_on])) return false;
    if (!loss_history.empty()) loss_history.erase(id);
    tasks.erase(id);
    --workers[ran_on].load.in_hand;
    return true;
}

void engine_state::accept_status(std::size_t w, std::span<const std::byte> body) {
    const auto st = wire::decode<wire::status>(body);
    estimator.record_status(w, st.queued, st.busy, st.span, st.executed);
    workers[w].executed += st.executed;
    workers[w].busy_seconds += st.busy;
    for (const auto& d : st.durations)
        estimator.record_durations(d.name, d.count, d.sum, d.sum_of_squares);
    if (st.queued > 0 || st.unstarted > 0) workers[w].dry = false;
}

void engine_state::accept_stolen(std::size_t victim, std::span<const std::byte> body) {
    const steal_in_flight order = stealing.settle(victim, body);
    const auto answer = wire::decode_stolen(body);
    estimator.record_status(victim, answer.head.queued, 0, 0, 0);
    record_stolen(victim, answer, batch_ids);
    auto& stolen = counters.stealing;
    if (batch_ids.empty()) {
        workers[victim].dry = true;  // the thief stays hungry; the next victim is another
        ++stolen.empty;
        return;
    }
    ++stolen.steals;
    stolen.tasks_moved += batch_ids.size();
    const worker_info& thief = workers[order.thief];
    ++(thief.host == workers[victim].host ? stolen.same_host : stolen.cross_host);
    if (thief.hungry && !thief.gone() && !shutting_down) {
        const std::vector<sched::task_id> moving(batch_ids);
        send_tasks(order.thief, moving);
        // The thief asked for work, so it starts them now: their parents, waiting on the
        // victim, learn when to expect them.
        wire::lent_forecast forecast;
        for (const auto& t : answer.lent)
            if (const auto* d = estimator.duration_of(t.name_hash); d && d->samples > 0)
                forecast.tasks.push_back({t.id, d->latest, d->variance});
        if (!forecast.tasks.empty()) send_message(net, workers[victim].rank, std::move(forecast));
        return;
    }
    // The thief was fed from the central queue meanwhile (or left): the tasks join the head of
    // that queue and go wherever dispatch sends them next.
    requeue(batch_ids);
}

void engine_state::record_stolen(std::size_t victim, const wire::stolen_view& answer,
                                 std::vector<sched::task_id>& moving) {
    moving.clear();
    for (const auto id : answer.head.returned) {
        sched::task_record* rec = tasks.find(id);
        if (!rec || rec->state != task_state::running || rec->owner != static_cast<int>(victim)) {
            protocol_fault(workers[victim].rank,
                           "gave back task " + std::to_string(id) + ", which it does not hold");
            continue;
        }
        let_go(*rec, victim);
        // A graph's task that was ready there has its arguments whole here (the victim sent
        // its inputs' results before the answer); one that still misses some waits here.
        if (!graph.empty() && graph.holds(id)) {
            requeue({&id, 1});
            continue;
        }
        moving.push_back(id);
    }
    for (const auto& t : answer.lent) {
        sched::task_record rec;
        rec.name_hash = t.name_hash;
        rec.signature = t.signature;
        rec.payload.assign(t.args.begin(), t.args.end());
        rec.lent = true;
        const auto id = tasks.insert(std::move(rec));
        lent.lend(id, victim, t.id);
        observer.lent(id, answer.head.parents[&t - answer.lent.data()], workers[victim].rank);
        moving.push_back(id);
    }
}

void engine_state::requeue_lost_batches(std::size_t i, std::uint64_t messages_received) {
    worker_info& w = workers[i];
    const std::vector<std::uint64_t> lost = w.batches.lost_within(messages_received);
    if (lost.empty()) return;
    const auto ids = running_on(static_cast<int>(i), lost);
    for (const auto id : ids) let_go(*tasks.find(id), i);
    requeue(ids);
    counters.batches_lost += lost.size();
    log().error(
        "rank {} has received {} message(s) from rank 0 but not {} task batch(es) sent among "
        "them; their {} task(s) are queued again",
        w.rank, messages_received, lost.size(), ids.size());
}

bool engine_state::broker_steals() {
    if (shutting_down || !stealing.wanted()) return false;
    sync_estimator();
    return stealing.order(clock::now());
}

load_snapshot engine_state::snapshot() {
    sync_estimator();
    load_snapshot s;
    const sched::load_snapshot estimate = estimator.snapshot();
    s.central_queued = estimate.central_queued;
    s.central_backlog_seconds = estimate.central_backlog_seconds;
    s.total_backlog_seconds = estimate.total_backlog_seconds;
    s.workers.reserve(estimate.workers.size());
    for (const sched::worker_estimate& e : estimate.workers)
        s.workers.push_back({e.in_hand, e.queued, e.busy_fraction, e.task_seconds,
                             e.backlog_seconds, e.hungry, e.parked});
    s.stealing = counters.stealing;
    s.batches_lost = counters.batches_lost;
    s.workers_lost = counters.workers_lost;
    s.tasks_rerun = counters.tasks_rerun;
    s.scaling.parks = counters.parks;
    s.scaling.wakes = counters.wakes;
    s.scaling.spawned = counters.spawned;
    s.scaling.spawn_failures = counters.spawn_failures;
    s.scaling.spawns_hung = counters.spawns_hung;
    s.scaling.retired = counters.retired;
    s.scaling.spawn_median_seconds = median(counters.spawn_seconds);
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const worker_info& w = workers[i];
        s.workers[i].parked = w.parked_since.has_value();  // parked, or retiring from a park
        if (!w.in_pool()) continue;
        switch (w.phase) {
            case sched::worker_phase::starting:
                ++s.pool.starting;
                break;
            case sched::worker_phase::parked:
                ++s.pool.parked;
                break;
            case sched::worker_phase::active:
                ++s.pool.active;
                break;
            default:  // not in the pool
                break;
        }
    }
    s.stealing.round_trip_median_us = median(counters.steal_round_trips_us);
    return s;
}

void rank0_context::report_to(sched::load_estimator& estimator, std::uint64_t& executed,
                              double& busy) {
    for (const auto& d : durations_)
        estimator.record_durations(d.name, d.count, d.sum, d.sum_of_squares);
    executed += executed_;
    busy += busy_seconds_;
    durations_.clear();
    busy_seconds_ = 0;
    executed_ = 0;
}

void engine_state::count_end(sched::task_id id, sched::task_record& rec, sched::outcome why,
                             int worker) {
    if (worker >= 0) let_go(rec, static_cast<std::size_t>(worker));
    if (!loss_history.empty() && why != sched::outcome::worker_lost) loss_history.erase(id);
    // The driver's tasks only: a lent task whose lender died ends here too, unreported; a
    // join runs nothing.
    if (!rec.lent && !rec.join) {
        (why == sched::outcome::ok ? counters.completed : counters.failed) += sched::tasks_in(rec);
        last_finish = last_pump;
    }
}

void engine_state::complete(sched::task_id id, sched::task_record& rec, sched::outcome why,
                            std::span<const std::byte> payload, int worker) {
    if (rec.state == task_state::done || rec.state == task_state::failed) {
        // Every path here checks that the task is still to finish (requeue() once did not, and
        // failed a bounced chain's tasks twice). One that does not would count it twice and
        // pass its result on again: refuse, and say so.
        log().error(
            "tide bug: task {} ({}) finished a second time (outcome {}, from worker {}); "
            "ignored",
            id, name_of(id, rec), static_cast<int>(why), worker);
        return;
    }
    count_end(id, rec, why, worker);
    if (rec.range && why == sched::outcome::ok && !rec.lent) {
        // Counted as done above: those of its tasks that failed move over.
        const packed_view results(payload);
        std::uint64_t failed = 0;
        for (std::uint32_t i = 0; i < results.size(); ++i) failed += results.status(i) != 0;
        counters.completed -= failed;
        counters.failed += failed;
    }
    // It ran while rank 0 still missed inputs kept where it ran: it needs none of them now.
    if (!graph.empty() && graph.holds(id))
        for (const auto in : graph.drop(id)) maybe_unneeded.push_back(in);
    // The driver's successful tasks, by the arguments the record still holds.
    if (journal && why == sched::outcome::ok && !rec.lent && !rec.join)
        journal->append(journal_format::key_of(rec.name_hash, rec.payload, journal->salt_hash()),
                        payload);
    if (!graph.empty()) feed_consumers(id, why, payload, worker);
    if (!stand_ins.empty()) finish_stand_ins(id, rec, why, payload);
    if (rec.abandoned) {
        if (!names_of_unknown.empty()) names_of_unknown.erase(id);
        tasks.erase(id);
        return;
    }
    rec.owner = worker;
    // The result replaces the arguments, in the same buffer: no allocation when it fits. A
    // buffer much larger than the result (big arguments, small result) is released, so
    // finished tasks waiting to be collected do not keep their arguments' memory.
    rec.payload.assign(payload.begin(), payload.end());
    if (rec.payload.capacity() > 2 * rec.payload.size() + 4096) rec.payload.shrink_to_fit();
    rec.state = why == sched::outcome::ok ? task_state::done : task_state::failed;
    rec.why = why;
}

void engine_state::let_go(sched::task_record& rec, std::size_t worker) {
    auto& w = workers[worker];
    if (rec.ahead)
        --w.ahead;
    else
        w.load.in_hand -= sched::tasks_in(rec);
    rec.ahead = false;
}

void engine_state::fail_running(int worker, std::optional<std::uint64_t> batch,
                                const std::string& reason) {
    const auto* bytes_of = reinterpret_cast<const std::byte*>(reason.data());
    const auto hit =
        batch ? running_on(worker, std::span<const std::uint64_t>(&*batch, 1)) : running_on(worker);
    const std::span<const std::byte> text{bytes_of, reason.size()};
    for (auto id : hit)
        if (!forward_if_lent(id, sched::outcome::protocol, text, static_cast<std::size_t>(worker)))
            complete(id, *tasks.find(id), sched::outcome::protocol, text, worker);
    lent.send(net, workers, shutting_down);
    if (!hit.empty())
        log().error("{} task(s) held by rank {} failed: {}", hit.size(), rank_of(worker), reason);
}

std::vector<sched::task_id> engine_state::running_on(int worker,
                                                     std::span<const std::uint64_t> batches) {
    std::vector<sched::task_id> ids;
    tasks.for_each([&](sched::task_id id, sched::task_record& rec) {
        if (rec.state == task_state::running && rec.owner == worker &&
            (batches.empty() ||
             std::find(batches.begin(), batches.end(), rec.batch) != batches.end()))
            ids.push_back(id);
    });
    return ids;
}

void engine_state::sync_estimator() {
    for (std::size_t i = 0; i < workers.size(); ++i) {
        estimator.set_in_hand(i, static_cast<std::uint32_t>(workers[i].load.in_hand));
        estimator.set_hungry(i, workers[i].hungry);
    }
}

bool engine_state::dispatch() {
    if (shutting_down || queue.empty() || workers.empty()) return false;
    loads_scratch.clear();
    bool empty_worker = false, any_isolating = false;
    for (auto& w : workers) {
        if (w.isolating && w.load.in_hand == 0) w.isolating = false;  // its lone task is done
        loads_scratch.push_back(w.load);
        loads_scratch.back().accepting = w.load.accepting && !w.isolating;
        loads_scratch.back().last_active = w.last_result.time_since_epoch().count();
        any_isolating = any_isolating || w.isolating;
        empty_worker = empty_worker || w.phase == sched::worker_phase::starting ||
                       (w.phase == sched::worker_phase::active && w.load.accepting &&
                        !w.isolating && w.load.in_hand == 0);
    }
    // A suspect (a task lost with a worker) goes alone to a worker with nothing in hand, and
    // that worker then takes nothing else until it is done. When no worker has nothing in hand,
    // and none is on the way, a hungry worker takes suspects and isolation ends for it: the
    // tasks it holds all wait for children (nested tasks), maybe for these very ones, and
    // holding them back would leave the run waiting for ever.
    const auto all_it_holds_waits = [&](const worker_info& w) { return !empty_worker && w.hungry; };
    if (any_isolating && !empty_worker)
        for (std::size_t i = 0; i < workers.size(); ++i)
            if (workers[i].isolating && all_it_holds_waits(workers[i]))
                loads_scratch[i].accepting = workers[i].load.accepting;
    bool sent = false;
    // Late in a job a worker may pass tasks over (take_from_queue): a second round shares what
    // it left among the others.
    for (int round = 0; round < 2 && !queue.empty(); ++round) {
        // A worker may hold two ranges of a bulk submission beyond the prefetch.
        const auto hold = sched::hold_for(cfg.prefetch, queue.front_tasks());
        const auto plan = sched::plan_dispatch(queue.tasks(), loads_scratch, hold);
        bool passed_any = false;
        for (std::size_t i = 0; i < workers.size(); ++i) {
            if (plan[i] == 0 || queue.empty()) continue;
            if (take_from_queue(plan[i], workers[i].joined,
                                workers[i].load.in_hand == 0 || all_it_holds_waits(workers[i]),
                                batch_ids)) {
                passed_any = true;
                loads_scratch[i].accepting = false;
            }
            if (batch_ids.empty()) continue;
            if (tasks.find(batch_ids.front())->losses > 0) {
                workers[i].isolating = true;
                loads_scratch[i].accepting = false;
            }
            if (workers[i].hungry) ++counters.stealing.served_centrally;
            try {
                send_tasks(i, batch_ids, true);
            } catch (...) {
                // Not sent: put what is still queued back at the head of the queue, in order.
                std::vector<sched::task_id> unsent;
                for (const auto id : batch_ids)
                    if (tasks.find(id)->state == task_state::queued) unsent.push_back(id);
                queue.put_back(unsent, tasks);
                throw;
            }
            loads_scratch[i].in_hand = workers[i].load.in_hand;
            sent = true;
        }
        if (!passed_any) break;
    }
    return sent;
}

void engine_state::send_tasks(std::size_t worker, std::span<const sched::task_id> ids,
                              bool from_queue) {
    worker_info& w = workers[worker];
    note_sent(w);
    const bool keep = keeping();
    for (std::size_t at = 0; at < ids.size();) {
        bytes buf = net.take_buffer();
        const auto seq = next_seq++;
        wire::task_batch_writer batch(buf, seq);
        batch_records.clear();  // one lookup per task: the table does not change meanwhile
        while (at < ids.size() && batch.count() < cfg.batch_max &&
               (batch.count() == 0 || buf.size() < cfg.batch_bytes)) {
            sched::task_record* rec = tasks.find(ids[at]);
            batch.add(ids[at], rec->name_hash, rec->signature, rec->payload,
                      keep && !rec->lent && !rec->range, rec->range);
            batch_records.push_back(rec);
            ++at;
        }
        send_built<wire::task_batch_writer>(net, w.rank, std::move(buf));
        for (sched::task_record* rec : batch_records) {
            rec->state = task_state::running;
            rec->owner = static_cast<int>(worker);
            rec->batch = seq;
            const auto n = sched::tasks_in(*rec);
            if (from_queue)
                estimator.queued_centrally(rec->name_hash, -static_cast<std::int64_t>(n));
            w.load.in_hand += n;
        }
        w.batches.sent(seq, net.sent_to(w.rank));
        w.last_batch = {batch_records.back()->name_hash, batch_records.size(), clock::now(),
                        batch_records.back()->lent};
        ++counters.batches_sent;
    }
    w.hungry = false;
    w.dry = false;
    if (!graph.empty()) {
        std::vector<sched::task_id> consumers;
        for (const auto id : ids)
            for (const auto c : graph.consumers_of(id)) consumers.push_back(c);
        if (!consumers.empty()) send_ahead(std::move(consumers));
    }
}

bool engine_state::run_one_locally() {
    // Rank 0 alone since the start runs anything; while it could spawn, it stands in for a
    // worker joining now. It never runs a task that killed a worker: that would kill the run.
    const bool could_spawn = spawns && !spawning_off;
    take_from_queue(1, could_spawn ? clock::now() : started, false, batch_ids);
    if (batch_ids.empty()) {
        // Such a task at the head, and no worker can come for it: it fails.
        if (const auto suspect = could_spawn ? std::nullopt : queue.take_suspect(tasks)) {
            const auto id = *suspect;
            sched::task_record& rec = *tasks.find(id);
            estimator.queued_centrally(rec.name_hash, -1);
            fail_lost(id, rec, -1,
                      "no worker is left to run it, and rank 0 does not run a task "
                      "that killed its worker");
            return true;
        }
        return false;
    }
    const auto id = batch_ids.front();
    sched::task_record* rec = tasks.find(id);
    const auto n = sched::tasks_in(*rec);
    estimator.queued_centrally(rec->name_hash, -static_cast<std::int64_t>(n));
    if (!local_tasks) local_tasks = std::make_unique<rank0_context>(host);
    context_scope scope(*local_tasks);
    bytes out;
    sched::outcome status{};
    const auto start = clock::now();
    if (rec->range) {
        status = run_range_locally(*rec, out);
    } else {
        local_tasks->run_framed(rec->name_hash, [&] {
            status = execute(rec->name_hash, rec->signature, rec->payload, out);
        });
        local_tasks->drain();  // children whose futures were dropped still run
    }
    observer.own_span(
        {id, rec->name_hash, seconds_of(start - started), seconds_of(clock::now() - start)});
    local_tasks->report_to(estimator, counters.local_executed, counters.local_busy_seconds);
    counters.local_tasks += n;
    complete(id, *tasks.find(id), status, out, -1);
    last_finish = clock::now();
    return true;
}

bool engine_state::finished(sched::task_id id) const {
    const auto* rec = tasks.find(id);
    return !rec || rec->state == task_state::done || rec->state == task_state::failed;
}

void engine_state::check_open() const {
    if (closed)
        throw error(
            "tide: this tide run has ended; futures cannot be used after the driver "
            "function returns");
}

bool engine_state::brokering() const {
    if (stealing.in_flight()) return true;
    // A hungry worker while some other one may have work to give. (Not when every other one
    // is dry: a worker in one long task must not keep rank 0 polling fast.)
    const auto usable = [](const worker_info& w) {
        return w.phase != sched::worker_phase::parked && !w.gone();
    };
    const bool hungry = std::any_of(workers.begin(), workers.end(),
                                    [&](const worker_info& w) { return usable(w) && w.hungry; });
    return hungry && std::any_of(workers.begin(), workers.end(), [&](const worker_info& w) {
               return usable(w) && !w.hungry && !w.dry && w.load.in_hand > 0;
           });
}

bool engine_state::outstanding() const {
    if (!queue.empty() || fetches_in_flight > 0) return true;
    return std::any_of(workers.begin(), workers.end(),
                       [](const worker_info& w) { return w.holding() > 0; });
}

std::optional<sched::expected_result> engine_state::next_expected_result(bool lent_only) const {
    std::optional<sched::expected_result> first;
    for (const auto& w : workers) {
        // Behind other tasks a task's start is anyone's guess.
        if (w.gone() || w.load.in_hand != 1 || w.last_batch.tasks != 1) continue;
        if (lent_only && !w.last_batch.lent) continue;
        const auto* duration = estimator.duration_of(w.last_batch.name);
        if (!duration || duration->samples == 0) continue;
        const auto e = sched::expect_task(w.last_batch.at, duration->latest, duration->variance);
        if (!first || e.at - e.spread < first->at - first->spread) first = e;
    }
    return first;
}

std::size_t engine_state::running() const {
    std::size_t n = 0;
    for (const auto& w : workers) n += w.holding();
    return n;
}

int engine_state::rank_of(int worker) const {
    return worker < 0 ? 0 : workers[static_cast<std::size_t>(worker)].rank;
}

std::string engine_state::host_of(int worker) const {
    return worker < 0 ? host : workers[static_cast<std::size_t>(worker)].host;
}

// ---- background progress ----------------------------------------------------------------------

void engine_state::start_background() {
    if (workers.empty() && !spawns) return;  // single rank: tasks run inside the driver's waits
    // With a background thread rank 0 keeps sending heartbeats (to the end, shutdown
    // included), and so do its workers, which have keeper threads by the same thread level:
    // each side watches the other from now on.
    beating = true;
    for (auto& w : workers) w.last_heard = clock::now();
    background = std::thread([this] { background_loop(); });
}

void engine_state::wake_dozing_background() {
    // Only a thread in its long sleep needs waking: signalling on every submit would cost a
    // context switch per task.
    if (background_dozing) {
        background_dozing = false;
        wake_background.notify_one();
    }
}

void engine_state::stop_background() {
    {
        std::lock_guard lock(mu);
        stop = true;
    }
    wake_background.notify_all();
    if (background.joinable()) background.join();
}

void engine_state::background_loop() {
    use_precise_timers();
    std::unique_lock lock(mu);
    while (!stop) {
        // Nothing in flight: doze until a submit wakes this thread. Work in flight while the
        // driver computes: look again soon after a pump that moved something (workers are
        // draining their prefetch), every 5 ms otherwise, and around the end of a lent child
        // whose parent waits for it on another worker. (Not around the driver's tasks: the
        // driver takes their results in its next call, which pumps.)
        background_dozing = !outstanding();
        std::chrono::steady_clock::duration period =
            background_dozing ? std::chrono::microseconds(100000)
            : brokering()     ? brokering_poll
            : background_busy ? std::chrono::microseconds(1000)
                              : std::chrono::microseconds(5000);
        // The driver pumped recently (the last pump was not this thread's): it is waiting in
        // a tide call and moves things itself.
        const auto driver_active = [&] {
            return last_pump != background_pumped_at &&
                   clock::now() - last_pump < driver_active_window;
        };
        if (!background_dozing && !driver_active())
            if (const auto expected = next_expected_result(true))
                period = std::max<std::chrono::steady_clock::duration>(
                    sched::pause_before(*expected, clock::now(), period, background_in_window,
                                        period),
                    background_in_window);
        wake_background.wait_for(lock, period);
        background_dozing = false;
        if (stop) break;
        if (driver_active()) {
            background_busy = false;
            continue;
        }
        try {
            background_busy = pump();
            background_pumped_at = last_pump;
        } catch (const std::exception& e) {
            // The driver sees the same failure on its next call; keep the first report here.
            log().error("background progress failed: {}", e.what());
            return;
        }
    }
}

// ---- shutdown -----------------------------------------------------------------------------------

engine::ending engine_state::shutdown() {
    stop_background();
    std::lock_guard lock(mu);
    shutting_down = true;
    // Satellites still queued are taken out of the queue, and one starting now is told to end;
    // those running end with their workers, told below.
    stop_satellites();
    const auto unfinished = queue.tasks() + running();
    if (unfinished > 0)
        log().warn("the driver finished with {} task(s) not done; they are discarded", unfinished);
    for (auto& w : workers)
        if (w.phase == sched::worker_phase::active || w.phase == sched::worker_phase::parked)
            send_message(net, w.rank, wire::shutdown{counters.workers_lost > 0 ? 1u : 0u});

    // Workers being spawned count too: a spawn that completes now is told to finish at once,
    // one that fails or is given up on counts as gone.
    const auto deadline = clock::now() + cfg.shutdown_timeout;
    auto backoff = idle_polling();
    const auto all_gone = [&] {
        return std::all_of(workers.begin(), workers.end(),
                           [](const worker_info& w) { return w.gone(); });
    };
    while (!all_gone() && clock::now() < deadline) {
        if (pump())
            backoff.reset();
        else
            idle_pause(backoff, deadline);
    }
    bool clean = all_gone() && net.drain_sends(deadline);
    bool mpi_stuck = false;
    if (spawns) {
        release_groups(true);
        mpi_stuck = !spawns->wait_idle(deadline) || spawns->stuck() > 0;
        if (mpi_stuck)
            log().warn(
                "{} spawn or disconnect call(s) on rank 0 never returned; the process "
                "ends without MPI_Finalize",
                std::max(spawns->stuck(), 1));
    }
    // After the disconnects, which the groups' workers wait for before they end.
    if (nodes) nodes->finish(deadline);
    finish_satellites(deadline);
    // Every result that came back is in: make them durable. A writer stuck in a file system
    // that does not answer still uses the journal: it is left alive for the process's end.
    if (journal && !journal->close(cfg.shutdown_timeout)) (void)journal.release();
    // A worker whose spawn never completed has no process to stop: it is not a stuck worker.
    // (The event moves only workers still starting.)
    for (auto& w : workers) w.enter(sched::phase_event::spawn_failed);
    clean = clean || (all_gone() && mpi_stuck);
    log_end();
    if (!clean) return engine::ending::workers_stuck;
    if (mpi_stuck) return engine::ending::mpi_stuck;
    if (counters.workers_lost > 0) {
        log().info(
            "{} worker(s) died during the run: MPI_Finalize is skipped (it could wait for "
            "them for ever)",
            counters.workers_lost);
        return engine::ending::peers_lost;
    }
    return engine::ending::clean;
}

void engine_state::log_end() {
    std::uint64_t executed = 0;
    double worker_cpu = 0;
    for (const auto& w : workers) {
        if (!w.gone())
            log().error("worker rank {} on {} did not stop within {} s", w.rank, w.host,
                        cfg.shutdown_timeout.count() / 1000.0);
        executed += w.farewell.executed;
        worker_cpu += w.farewell.cpu_seconds;
    }
    log().info(
        "done: {} tasks submitted, {} completed, {} failed, {} batches sent ({} lost), {} run "
        "by workers using {:.3f} s CPU, {} protocol errors",
        counters.submitted, counters.completed, counters.failed, counters.batches_sent,
        counters.batches_lost, executed, worker_cpu, counters.protocol_errors);
    report_end();
    const auto load = snapshot();
    const auto& st = load.stealing;
    log().info(
        "stealing: {} requests, {} served from the central queue, {} orders, {} steals, {} "
        "empty, {} tasks moved, round trip median {:.1f} us, max {:.1f} us",
        st.requests, st.served_centrally, st.orders, st.steals, st.empty, st.tasks_moved,
        st.round_trip_median_us, st.round_trip_max_us);
}

// ---- engine: the face the templates see ---------------------------------------------------------

engine::engine(std::unique_ptr<engine_state> state) : state_(std::move(state)) {}
engine::~engine() = default;

void engine_state::check_journalable(const task_entry& entry) const {
    if (journal && !entry.canonical_arguments)
        throw error("tide: task '" + entry.name + "' cannot be journaled: its arguments (" +
                    entry.sig->text +
                    ") hold an unordered container, whose bytes follow its hash table's order, "
                    "so the journal could not recognise the same call again. Pass a std::map, "
                    "std::set or sorted std::vector instead, or run without --tide-journal");
}

std::optional<std::span<const std::byte>> engine_state::journaled(std::uint64_t name_hash,
                                                                  const bytes& args) {
    if (!journal->has_results()) return std::nullopt;
    return journal->find(journal_format::key_of(name_hash, args, journal->salt_hash()));
}

sched::task_id engine_state::enqueue(const task_entry& entry, bytes args, bool range) {
    check_journalable(entry);
    sched::task_record rec;
    rec.name_hash = entry.name_hash;
    rec.signature = entry.sig->hash;
    rec.range = range;
    const auto id = tasks.insert(std::move(rec));
    counters.submitted += range ? packed_count(args) : 1;
    start(id, *tasks.find(id), std::move(args));
    return id;
}

void engine_state::start(sched::task_id id, sched::task_record& rec, bytes args) {
    if (journal) {
        if (const auto result = journaled(rec.name_hash, args)) {
            rec.payload.assign(result->begin(), result->end());
            rec.state = task_state::done;
            ++counters.resumed;
            if (!graph.empty()) feed_consumers(id, sched::outcome::ok, rec.payload, -1);
            if (rec.abandoned) tasks.erase(id);
            return;
        }
    }
    if (!outstanding()) {
        // Work arrives while nothing is queued or running: a burst begins.
        burst_started = clock::now();
        burst_answered = false;
        ++counters.bursts;
        if (!first_submit) first_submit = burst_started;
    }
    rec.payload = std::move(args);
    rec.state = task_state::queued;
    const auto n = sched::tasks_in(rec);
    queue.push(id, n);
    estimator.queued_centrally(rec.name_hash, static_cast<std::int64_t>(n));
}

task_id engine::submit(const task_entry& entry, bytes args) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    const auto id = s.enqueue(entry, std::move(args));
    // Dispatch at once when the pipe may be dry or a batch is full; otherwise let submissions
    // collect into one message for the next wait or the background thread. Without that
    // thread nothing else would send them while the driver computes: always dispatch then.
    if (!s.background.joinable() || s.queue.size() >= s.cfg.batch_max ||
        clock::now() - s.last_pump > std::chrono::microseconds(50))
        s.pump();
    s.wake_dozing_background();
    return id;
}

task_id engine::submit_after(const task_entry& entry, bytes literal,
                             std::vector<task_input> inputs) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    const auto id = s.enqueue_after(&entry, std::move(literal), std::move(inputs));
    if (!s.background.joinable() || clock::now() - s.last_pump > std::chrono::microseconds(50))
        s.pump();
    s.wake_dozing_background();
    return id;
}

task_id engine::join(bytes literal, std::vector<task_input> inputs) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    return s.enqueue_after(nullptr, std::move(literal), std::move(inputs));
}

task_id engine::submit_failed(std::string name, std::string message, bool unknown_name) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    sched::task_record rec;
    rec.name_hash = fnv1a(name);
    rec.state = task_state::failed;
    rec.why = unknown_name ? sched::outcome::unknown_task : sched::outcome::bad_arguments;
    const auto* text = reinterpret_cast<const std::byte*>(message.data());
    rec.payload.assign(text, text + message.size());
    const auto id = s.tasks.insert(std::move(rec));
    s.names_of_unknown.emplace(id, std::move(name));
    ++s.counters.submitted;
    ++s.counters.failed;
    return id;
}

bool engine::ready(task_id id) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    s.check_open();
    id = s.record_of(id);
    if (!s.finished(id)) {
        s.pump();
        if (s.local_mode() && !s.queue.empty()) s.run_one_locally();
        if (!s.finished(id)) return false;
    }
    // Finished. A result kept on a worker starts coming now, for the get() that follows.
    if (const auto* rec = s.tasks.find(id); rec && rec->kept) s.fetch_result(id);
    return true;
}

bool engine::wait_until(task_id id, clock::time_point deadline) {
    auto& s = *state_;
    auto backoff = idle_polling();  // reads no clock: cheap for futures already finished
    bool brokering = false;
    std::optional<sched::expected_result> expected;  // once the quick polls are over
    for (;;) {
        {
            std::lock_guard lock(s.mu);
            s.check_open();
            // A bulk task's range may be split meanwhile (lost with its worker): look again.
            if (s.result_here(s.record_of(id))) return true;
            const bool progressed = s.pump();
            if (s.result_here(s.record_of(id))) return true;
            if (s.local_mode() && !s.queue.empty()) {
                if (clock::now() >= deadline) return false;
                if (s.run_one_locally()) continue;
            }
            if (progressed) backoff.reset();
            brokering = s.brokering();
            if (!backoff.quick()) expected = s.next_expected_result(false);
        }
        const auto now = clock::now();
        if (now >= deadline) return false;
        // While a worker waits for work through rank 0, rank 0 answers promptly: an idle
        // core is at stake, and the short sleeps last only as long as the steal.
        idle_pause(backoff, brokering ? std::min(deadline, now + brokering_poll) : deadline,
                   expected ? &*expected : nullptr);
    }
}

std::exception_ptr engine_state::failure_of(task_id id, const sched::task_record& rec) {
    const std::string name = name_of(id, rec);
    if (rec.why == sched::outcome::worker_lost)
        return std::make_exception_ptr(worker_lost(
            task_error::kind::worker_lost, name, rank_of(rec.owner), host_of(rec.owner),
            std::string(reinterpret_cast<const char*>(rec.payload.data()), rec.payload.size())));
    return std::make_exception_ptr(
        error_of(rec.why, rec.payload, name, rank_of(rec.owner), host_of(rec.owner)));
}

sched::task_record& engine_state::finished_record(task_id id) {
    check_open();
    sched::task_record* rec = tasks.find(id);
    if (!rec) throw error("tide: task " + std::to_string(id) + " is not known to rank 0");
    if ((rec->state != task_state::done && rec->state != task_state::failed) || rec->kept)
        throw error("tide: task " + std::to_string(id) +
                    " is not finished, or its result is "
                    "not on rank 0 (wait for it first)");
    return *rec;
}

bytes engine::take(task_id id) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    if (bulk_groups::is_bulk(id)) return s.bulk_result(id, true);
    sched::task_record& rec = s.finished_record(id);
    if (rec.state == task_state::failed) {
        const auto failure = s.failure_of(id, rec);
        s.names_of_unknown.erase(id);
        s.tasks.erase(id);
        std::rethrow_exception(failure);
    }
    bytes out = std::move(rec.payload);
    s.tasks.erase(id);
    return out;
}

bytes engine::peek(task_id id) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    if (bulk_groups::is_bulk(id)) return s.bulk_result(id, false);
    sched::task_record& rec = s.finished_record(id);
    // Every copy of a shared future throws the same error: the record stays for them.
    if (rec.state == task_state::failed) std::rethrow_exception(s.failure_of(id, rec));
    return rec.payload;
}

void engine::release(task_id id) noexcept {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    if (s.closed) return;
    if (bulk_groups::is_bulk(id)) {
        s.release_bulk_task(id);
        return;
    }
    s.release_record(id);
}

void engine_state::release_record(sched::task_id id) {
    sched::task_record* rec = tasks.find(id);
    if (!rec) return;
    if (rec->kept) {
        // Its worker frees it once no task still to run takes it.
        rec->abandoned = true;
        maybe_unneeded.push_back(id);
        release_unneeded();
    } else if (finished(id)) {
        names_of_unknown.erase(id);
        tasks.erase(id);
    } else {
        rec->abandoned = true;
    }
}

run_stats engine::stats() {
    std::lock_guard lock(state_->mu);
    return state_->stats();
}

load_snapshot engine::load() {
    std::lock_guard lock(state_->mu);
    return state_->snapshot();
}

int engine::worker_count() const {
    std::lock_guard lock(state_->mu);
    return static_cast<int>(
        std::count_if(state_->workers.begin(), state_->workers.end(), [](const worker_info& w) {
            return w.in_pool() && w.phase != sched::worker_phase::starting;
        }));
}

std::optional<double> engine::seconds_left() const {
    std::lock_guard lock(state_->mu);
    const auto& end = state_->job.ends_at;
    if (!end) return std::nullopt;
    return std::chrono::duration<double>(*end - clock::now()).count();
}

engine::ending engine::close() {
    const auto how = state_->shutdown();
    std::lock_guard lock(state_->mu);
    state_->closed = true;
    return how;
}

}  // namespace tide::detail
