// Worker loss at rank 0. Open MPI (with mpirun --enable-recovery) keeps the job running when a
// worker process dies, but tells nobody: the dead worker simply falls silent. So every
// worker with a keeper thread sends a heartbeat when it has sent nothing else for a third of
// --tide-heartbeat, rank 0 does the same towards the workers, and a worker silent for a whole
// --tide-heartbeat is lost. Its tasks run again elsewhere (at-least-once execution); a task
// lost with its worker before then runs alone on a worker, so that it alone is blamed if that
// worker dies too, and fails with tide::worker_lost after --tide-max-retries losses.
// With --tide-nodes, a node's loss shows sooner: its group's launcher ends, and the group's
// workers are lost at once, with the node (reap_launchers).

#include <fmt/format.h>

#include <algorithm>

#include "platform/log.hpp"
#include "protocol/messaging.hpp"
#include "rank0/engine_state.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;
using sched::task_state;

void engine_state::requeue(std::span<const sched::task_id> ids) {
    std::vector<sched::task_id> queued, held_again;
    for (const auto id : ids) {
        sched::task_record* rec = tasks.find(id);
        // Every task here was running on a worker that let go of it. One that is no longer
        // running was finished by this loop: a graph's task earlier in `ids` failed, and the
        // failure reached it through the graph (its record may be gone, its future dropped).
        // Completing it again counted it twice (seen: a chain of tasks sent ahead, bounced
        // back because the input they awaited there had failed).
        if (!rec || rec->state != task_state::running) continue;
        rec->ahead = false;  // let go of by its worker (a lost one's counts are cleared whole)
        rec->owner = -1;
        if (!graph.empty() && graph.holds(id)) {
            rec->state = task_state::held;  // it waits here for its inputs now
            held_again.push_back(id);
            continue;
        }
        if (rec->why == sched::outcome::child_failed) {
            // Sent ahead, then an input failed: its worker was to report the failure.
            const bytes error = rec->payload;
            complete(id, *rec, sched::outcome::child_failed, error, -1);
            continue;
        }
        rec->state = task_state::queued;
        estimator.queued_centrally(rec->name_hash,
                                   static_cast<std::int64_t>(sched::tasks_in(*rec)));
        queued.push_back(id);
    }
    queue.put_back(queued, tasks);
    // Inputs kept on workers: fetched, or made again if their worker is gone too.
    if (!kept.empty())
        for (const auto id : held_again) need_inputs(id);
}

void engine_state::watch_heartbeats() {
    if (!beating) return;
    const auto now = last_pump;
    if (now - last_heartbeat_check < cfg.heartbeat / 10) return;
    // Rank 0 itself was not looking for a while (the machine stalled it): the workers' silence
    // says nothing about them. Start their clocks afresh rather than declare them all lost.
    const bool was_away = now - last_heartbeat_check > cfg.heartbeat / 2 &&
                          last_heartbeat_check != clock::time_point{};
    last_heartbeat_check = now;
    // A launcher's end is the first sign of a node's loss (often long before a heartbeat).
    if (nodes) reap_launchers();
    for (int peer : net.take_failed())
        if (worker_info* w = workers.of_rank(peer))
            lose_worker(workers.index_of(*w), "MPI could not send to it");
    const auto silent_too_long = [&](worker_info& w) {
        if (w.gone() || w.phase == sched::worker_phase::starting) return false;
        // A message still arriving is a sign of life (a large one may take a while).
        if (was_away || net.arriving_from(w.rank)) {
            w.last_heard = now;
            return false;
        }
        // First contact with a new worker (its TCP connection to rank 0, for a spawned one)
        // may take a while on a loaded machine: it gets the spawn timeout for that.
        const auto allowed = w.heard ? cfg.heartbeat : std::max(cfg.heartbeat, cfg.spawn_timeout);
        return now - w.last_heard > allowed;
    };
    // Silence is judged on everything that has arrived, not on what this pump's budget took in:
    // when several workers' messages wait, Open MPI's wildcard probe may serve some before
    // others (open-mpi/ompi#7533), and a busy worker could keep a quiet one's heartbeats
    // waiting. Seen once: two of three workers taken for lost at the same instant while the
    // third kept rank 0 busy. Rare (a worker must be about to be lost), so no budget but a cap.
    // What arrives now counts as heard at this pump's time, `now`.
    constexpr int drain_cap = 1 << 20;
    if (std::any_of(workers.begin(), workers.end(), silent_too_long)) receive_some(drain_cap);
    for (std::size_t i = 0; i < workers.size(); ++i) {
        worker_info& w = workers[i];
        if (!silent_too_long(w)) continue;
        const double silent = std::chrono::duration<double>(now - w.last_heard).count();
        lose_worker(i, fmt::format("silent for {:.1f} s (--tide-heartbeat {:.1f} s)", silent,
                                   cfg.heartbeat.count() / 1000.0));
    }
    // Rank 0's own heartbeat, to every worker: a worker stops waiting for a rank 0 it has not
    // heard from in a whole period. None after its shutdown: the worker no longer watches then,
    // and a message it never takes would outlive the run (see transport::remove).
    if (shutting_down || now - last_heartbeat_sent < cfg.heartbeat / 3) return;
    last_heartbeat_sent = now;
    for (const auto& w : workers)
        if (w.phase == sched::worker_phase::active || w.phase == sched::worker_phase::parked)
            send_message(net, w.rank, wire::heartbeat{});
}

void engine_state::reap_launchers() {
    const auto ended = nodes->reap();
    for (const auto& e : ended) {
        const std::string why =
            fmt::format("the launcher of its group on {} (mpirun) {}", nodes->host(e.node), e.how);
        auto it = groups.find(e.group);
        if (it == groups.end()) {
            // Released: after its workers retired (a normal end), or were lost.
            if (e.how != "exited with 0") lose_node(e.node, why);
            continue;
        }
        spawn_group& g = it->second;
        // A normal end follows every member's goodbye (a message may still be on its way).
        if (g.linked && e.how == "exited with 0") continue;
        lose_node(e.node, why);
        if (!g.linked) {
            if (!g.abandoned) spawns->give_up(e.group, why + " before the group joined");
        } else {
            for_members(g, [&](worker_info& w) {
                if (!w.gone()) lose_worker(workers.index_of(w), why);
            });
        }
    }
}

void engine_state::lose_node(std::size_t node, const std::string& why) {
    if (nodes->lost(node)) return;
    nodes->lose(node);
    const std::string& node_host = nodes->host(node);
    log().error("node {} is lost ({}): no more workers are started there", node_host, why);
    observer.note("node " + node_host + " lost");
    observer.event(trace::pool, "node lost", node_host);
}

void engine_state::fail_lost(sched::task_id id, sched::task_record& rec, int worker,
                             const std::string& why) {
    std::string text = fmt::format("lost with its worker {} time(s), {}", rec.losses, why);
    if (auto h = loss_history.find(id); h != loss_history.end()) {
        text += ": " + h->second;
        loss_history.erase(h);
    }
    const auto* bytes_of = reinterpret_cast<const std::byte*>(text.data());
    const std::span<const std::byte> payload{bytes_of, text.size()};
    if (worker < 0 || !forward_if_lent(id, sched::outcome::worker_lost, payload,
                                       static_cast<std::size_t>(worker)))
        complete(id, rec, sched::outcome::worker_lost, payload, worker);
}

void engine_state::lose_worker(std::size_t i, const std::string& why) {
    worker_info& w = workers[i];
    if (w.gone()) return;
    ++counters.workers_lost;
    const auto now = clock::now();
    const double at = seconds_of(now - started);
    w.enter(sched::phase_event::lost);
    left_pool(i, now);
    observer.event(w.rank, "lost", why);
    w.hungry = w.stealing = w.being_robbed = w.isolating = false;
    w.load.accepting = false;
    estimator.record_status(i, 0, 0, 0, 0);  // its deque died with it
    places.leave(i);
    net.forget(w.rank);
    if (w.group != 0)
        if (auto g = groups.find(w.group); g != groups.end()) {
            g->second.broken = true;
            // A node whose workers are all lost is taken for lost too (its link may be down):
            // a replacement started there would only wait for the spawn timeout. A group still
            // joining there does not count: after the first of a node's workers was lost, the
            // policy may have chosen that node again before the others' silence showed.
            if (g->second.node && !joined_workers_left(*g->second.node))
                lose_node(*g->second.node, "every worker there was lost");
        }
    stealing.forget_victim(i);
    lent.forget_origin(i, tasks);      // its waiting parents died with it
    if (!shutting_down) lose_kept(i);  // before requeue: what its tasks need must be made

    std::size_t failed = 0;
    const std::vector<sched::task_id> again = retry_held_by(i, at, failed);
    lent.send(net, workers, shutting_down);
    requeue(again);
    counters.tasks_rerun += again.size();
    w.load.in_hand = 0;
    w.ahead = 0;
    w.batches.clear();
    observer.note("worker " + std::to_string(w.rank) + " lost");
    log().error("worker rank {} on {} is lost: {}; {} task(s) it held run again, {} failed", w.rank,
                w.host, why, again.size(), failed);
}

std::vector<sched::task_id> engine_state::retry_held_by(std::size_t i, double at,
                                                        std::size_t& failed) {
    const worker_info& w = workers[i];
    // What it held (sent, stolen by it, lent to it) runs again, unless it was lost too often.
    auto held = running_on(static_cast<int>(i));
    std::sort(held.begin(), held.end());  // a stable order (ids grow with submission, mostly)
    const std::string where = fmt::format("rank {} ({}) at {:.1f} s", w.rank, w.host, at);
    std::vector<sched::task_id> again;
    for (const auto id : held) {
        sched::task_record& rec = *tasks.find(id);
        observer.result_lost(w.rank, id);  // a span of it there ran in vain
        // A worker never heard from did not die of its tasks: they run again, unblamed.
        if (w.heard) {
            if (rec.losses < 255) ++rec.losses;
            auto& lost_at = loss_history[id];
            lost_at += (lost_at.empty() ? "" : ", ") + where;
            if (rec.losses > cfg.max_retries) {
                ++failed;
                fail_lost(id, rec, static_cast<int>(i),
                          fmt::format("more than --tide-max-retries={}", cfg.max_retries));
                continue;
            }
        }
        if (!rec.lent) counters.driver_tasks_rerun += sched::tasks_in(rec);
        // A range blamed for its worker's death comes back as a record per task, each of
        // them a suspect that runs alone: the one that kills again is found, and only it fails.
        if (rec.range && w.heard)
            split_range(id, rec, again);
        else
            again.push_back(id);
    }
    return again;
}

}  // namespace tide::detail
