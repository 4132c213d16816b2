// Rank 0's elastic pool: each scaling tick feeds the pool's state to the pure policy
// (scheduler/scaling_policy) and carries out its answer — wake or park workers, spawn a group,
// retire spawned groups — and takes in spawns finished on the spawner's thread.

#include <algorithm>

#include "platform/log.hpp"
#include "protocol/messaging.hpp"
#include "rank0/engine_state.hpp"
#include "tide/error.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

sched::policy_settings policy_from(const config& cfg, const launch_facts& launch) {
    const auto started = static_cast<std::size_t>(std::max(launch.world_size - 1, 0));
    sched::policy_settings s;
    // Where workers may be started: the nodes of --tide-nodes, else this job's slots.
    const auto& nodes = launch.node_launch;
    const int slots =
        nodes ? static_cast<int>(started) +
                    sched::free_slots(nodes->nodes, std::vector<int>(nodes->nodes.size()),
                                      std::vector<bool>(nodes->nodes.size()))
              : launch.slots - 1;
    if (launch.spawn_command.empty())
        s.max_workers = started;
    else if (cfg.max_workers >= 0)
        s.max_workers = std::max(started, static_cast<std::size_t>(cfg.max_workers));
    else
        s.max_workers = std::max(started, static_cast<std::size_t>(std::max(slots, 0)));
    s.min_workers = cfg.min_workers < 0
                        ? started
                        : std::min(s.max_workers, static_cast<std::size_t>(cfg.min_workers));
    s.target_backlog = cfg.target_backlog;
    s.idle_park = cfg.idle_park;
    s.idle_retire = cfg.idle_retire;
    s.cooldown = cfg.cooldown;
    return s;
}

std::size_t engine_state::live_workers() const {
    return static_cast<std::size_t>(std::count_if(workers.begin(), workers.end(),
                                                  [](const worker_info& w) { return !w.gone(); }));
}

bool engine_state::local_mode() const {
    return std::none_of(workers.begin(), workers.end(),
                        [](const worker_info& w) { return w.in_pool(); });
}

void engine_state::start_spawn(std::size_t count) {
    std::optional<sched::node_choice> where;
    if (nodes) {
        where = nodes->choose(workers_per_node(), static_cast<int>(count));
        if (!where) return;  // every node is full or lost
        count = static_cast<std::size_t>(where->count);
    }
    const auto id = add_group(static_cast<int>(count));
    spawn_group& g = groups.at(id);
    if (where) g.node = where->node;
    const std::string on = g.node ? " on " + nodes->host(*g.node) : std::string();
    observer.event(trace::pool, "spawn",
                   fmt::format("ranks {}..{}{}", g.first, g.first + g.count - 1, on));
    log().info("spawning {} worker(s) as ranks {}..{}{}", count, g.first, g.first + g.count - 1,
               on);
    if (g.node)
        launch_on_node(id, g);
    else
        spawns->spawn(id, g.count, g.first);
}

std::uint64_t engine_state::add_group(int count, std::optional<std::uint64_t> satellite) {
    const auto id = next_group++;
    spawn_group g;
    g.first = static_cast<int>(workers.size()) + 1;
    g.count = count;
    g.requested = clock::now();
    g.satellite = satellite;
    for (int k = 0; k < g.count; ++k) {
        worker_info& w = workers.add();
        w.phase = sched::worker_phase::starting;
        w.spawned = true;
        w.satellite = satellite.has_value();
        w.group = id;
        w.load.accepting = false;
    }
    estimator.resize(workers.size());
    lent.resize(workers.size());
    groups.emplace(id, std::move(g));
    return id;
}

std::optional<std::string> engine_state::open_port(std::uint64_t id) {
    char port[MPI_MAX_PORT_NAME] = {};
    if (MPI_Open_port(MPI_INFO_NULL, port) == MPI_SUCCESS) return std::string(port);
    spawns->give_up(id, "MPI_Open_port failed");
    return std::nullopt;
}

void engine_state::launch_on_node(std::uint64_t id, const spawn_group& g) {
    // A failure is reported as a failed spawn by collect_spawns (give_up).
    const auto port = open_port(id);
    if (!port) return;
    try {
        nodes->launch(id, *g.node, g.count, g.first, *port);
    } catch (const error& e) {
        MPI_Close_port(port->c_str());
        lose_node(*g.node, e.what());
        spawns->give_up(id, e.what());
        return;
    }
    spawns->accept(id, g.count, *port);
}

std::vector<int> engine_state::workers_per_node() const {
    std::vector<int> in_use(nodes->size(), 0);
    for (const auto& [id, g] : groups)
        if (g.node)
            for (int r = g.first; r < g.first + g.count; ++r)
                if (!workers.of_rank(r)->gone()) ++in_use[*g.node];
    return in_use;
}

bool engine_state::joined_workers_left(std::size_t node) const {
    for (const auto& [id, g] : groups)
        if (g.node == node && g.linked)
            for (int r = g.first; r < g.first + g.count; ++r)
                if (!workers.of_rank(r)->gone()) return true;
    return false;
}

std::size_t engine_state::node_slots_free() const {
    return static_cast<std::size_t>(nodes->free_slots(workers_per_node()));
}

bool engine_state::collect_spawns() {
    if (!spawns) return false;
    auto outcomes = spawns->collect();
    for (auto& o : outcomes) {
        auto it = groups.find(o.group);
        if (it == groups.end()) continue;
        spawn_group& g = it->second;
        bool keep = true;
        if (g.abandoned) {
            keep = late_spawn_returned(g, o);
        } else if (!o.error.empty()) {
            keep = spawn_failed(g, o);
            if (g.satellite) satellite_joined(g, false);
        } else {
            spawn_linked(g, o);
            if (g.satellite) satellite_joined(g, true);
        }
        if (!keep) groups.erase(it);
    }
    return !outcomes.empty();
}

void engine_state::for_members(const spawn_group& g, const std::function<void(worker_info&)>& fn) {
    for (int r = g.first; r < g.first + g.count; ++r) fn(*workers.of_rank(r));
}

bool engine_state::late_spawn_returned(spawn_group& g, spawn_outcome& o) {
    if (!o.error.empty()) return false;
    // Its workers came up late: link them only to let them go.
    log().warn("a spawn of {} worker(s) given up on completed after {:.2f} s; retiring them",
               g.count, o.seconds);
    net.add(o.comm.get(), g.first);
    g.comm = std::move(o.comm);
    g.linked = true;
    g.abandoned = false;
    const auto now = clock::now();
    for_members(g, [&](worker_info& w) {
        w.enter(sched::phase_event::spawn_returned_late);
        w.last_heard = now;  // watched from now on, like any worker
    });
    retire_group(o.group);
    return true;
}

bool engine_state::spawn_failed(spawn_group& g, const spawn_outcome& o) {
    if (g.satellite) {
        // Its own policy backs off (satellite_joined); spawning here is not to blame.
        log().warn("the {} worker(s) of satellite {} did not join after {:.2f} s: {}", g.count,
                   *g.satellite, o.seconds, o.error);
    } else {
        ++counters.spawn_failures;
        if (o.hung) ++counters.spawns_hung;
        policy.spawn_failed(seconds_of(clock::now() - started));
        log().warn(
            "spawning {} worker(s) failed after {:.2f} s: {}; the run goes on with {} "
            "worker(s){}",
            g.count, o.seconds, o.error, live_workers() - g.count,
            !o.hung ? ""
            : spawned_end_themselves
                ? " (a spawned process still inside MPI_Init ends itself at the spawn timeout)"
                : " (a spawned process stuck inside MPI_Init lasts until the run ends: rank 0 "
                  "then ends the job with MPI_Abort and the run's exit code)");
    }
    for_members(g, [](worker_info& w) { w.enter(sched::phase_event::spawn_failed); });
    observer.note((g.satellite ? "satellite join failed: " : "spawn failed: ") + o.error);
    observer.event(trace::pool, g.satellite ? "satellite join failed" : "spawn failed", o.error);
    if (!g.satellite && spawns->abandoned() >= max_hung_spawns) {
        spawning_off = true;
        log().error(
            "{} spawns never returned: no more spawning in this run (Open MPI's spawn is "
            "stuck); the run goes on with the workers it has",
            spawns->abandoned());
    }
    // A hung spawn may still return: its group waits for that (late_spawn_returned).
    g.abandoned = o.hung;
    return o.hung;
}

void engine_state::spawn_linked(spawn_group& g, spawn_outcome& o) {
    net.add(o.comm.get(), g.first);
    g.comm = std::move(o.comm);
    g.linked = true;
    if (shutting_down) {
        // No longer wanted: the workers came up anyway; let them go.
        for_members(g, [](worker_info& w) { w.enter(sched::phase_event::spawn_completed); });
        retire_group(o.group);
        return;
    }
    // A satellite's join is its own (satellites.cpp): not a spawn of this allocation.
    if (!g.satellite) {
        policy.spawn_succeeded();
        counters.spawned += static_cast<std::uint64_t>(g.count);
        counters.spawn_seconds.push_back(o.seconds);
        log().info("spawned {} worker(s) (ranks {}..{}) in {:.3f} s", g.count, g.first,
                   g.first + g.count - 1, o.seconds);
    }
    const auto now = clock::now();
    for_members(g, [&](worker_info& w) {
        w.enter(sched::phase_event::spawn_completed);
        w.load.accepting = true;
        w.idle_since = w.last_result = w.joined = w.last_heard = now;
        enter_pool(workers.index_of(w), now);
        if (g.satellite)
            observer.event(w.rank, "satellite joined",
                           fmt::format("join took {:.3f} s", o.seconds));
        else
            observer.event(w.rank, "spawned", fmt::format("spawn took {:.3f} s", o.seconds));
    });
}

void engine_state::retire_group(std::uint64_t id) {
    spawn_group& g = groups.at(id);
    for (int r = g.first; r < g.first + g.count; ++r) {
        worker_info& w = *workers.of_rank(r);
        if (w.gone() || w.phase == sched::worker_phase::retiring) continue;
        // After a death, finalizing could wait for the dead (see engine_state::shutdown).
        const bool without = g.broken || counters.workers_lost > 0;
        send_message(net, w.rank, wire::shutdown{without ? 1u : 0u});
        w.enter(sched::phase_event::retire);
        g.retiring = true;
        observer.event(w.rank, "retire");
        w.hungry = false;
        w.load.accepting = false;
    }
}

void engine_state::release_groups(bool force) {
    for (auto it = groups.begin(); it != groups.end();) {
        spawn_group& g = it->second;
        bool all_gone = g.linked && !g.abandoned;
        for (int r = g.first; r < g.first + g.count && all_gone; ++r)
            all_gone = workers.of_rank(r)->gone();
        if (!all_gone || !net.remove(g.first, force)) {
            ++it;
            continue;
        }
        if (g.retiring && !shutting_down) {
            counters.retired += static_cast<std::uint64_t>(g.count);
            log().info("retired worker(s) {}..{}; their slots are free", g.first,
                       g.first + g.count - 1);
        }
        // Disconnecting is collective over the group: with a dead member it would never end.
        if (!g.broken) spawns->disconnect(std::move(g.comm));
        it = groups.erase(it);
    }
}

bool engine_state::scale() {
    bool changed = collect_spawns();
    if (!groups.empty()) release_groups(false);
    take_satellite_news();
    if (shutting_down || (workers.empty() && !spawns)) return changed;
    // A bulk submission still coming in (its ranges are queued as they are encoded, and the
    // background thread pumps in between): the policy waits for the whole of it, up to a
    // second, rather than size the pool for its first range.
    if (bulk_arriving && last_pump - *bulk_arriving < std::chrono::seconds(1)) return changed;
    // Work waiting with no worker to take it cannot wait for the next tick: rank 0 would start
    // running it itself.
    const bool nobody = !queue.empty() && local_mode() && spawns && !spawning_off &&
                        seconds_left() > median(counters.spawn_seconds) &&
                        work_for_new_workers().tasks > 0 &&
                        !policy.spawn_blocked(seconds_of(last_pump - started));
    if (last_pump - last_tick < scaling_tick && !nobody) return changed;
    last_tick = last_pump;
    const auto now = last_pump;
    std::vector<std::size_t> index;  // view -> worker, for the workers in the pool
    const sched::scaling_input in = scaling_view(now, index);
    tend_satellites(in);
    const auto d = policy.tick(in);
    record_pool(in, d.reason);
    if (d.empty()) return changed;
    std::size_t woken = 0;
    for (std::size_t k = 0; k < index.size() && woken < d.wake; ++k)
        if (workers[index[k]].phase == sched::worker_phase::parked) {
            wake(index[k], now);
            ++woken;
        }
    for (const auto k : d.park) park(index[k], now);
    // A group retires as a whole (disconnecting is collective over it): only once every member
    // still in the pool is due.
    std::vector<std::uint64_t> retiring;
    for (const auto k : d.retire) {
        const std::uint64_t id = workers[index[k]].group;
        if (std::find(retiring.begin(), retiring.end(), id) != retiring.end()) continue;
        bool whole = true;
        // A worker keeping results stays (parked): retiring it would lose them, and the tasks
        // that made them would run again.
        for (std::size_t j = 0; j < index.size() && whole; ++j)
            if (workers[index[j]].group == id)
                whole = std::find(d.retire.begin(), d.retire.end(), j) != d.retire.end() &&
                        !keeps_results(index[j]);
        if (whole) retiring.push_back(id);
    }
    for (const auto id : retiring) retire_group(id);
    if (d.spawn > 0) start_spawn(d.spawn);
    log().info("scaling: {} -> woke {}, parked {}, spawning {}, retiring {} group(s)", d.reason,
               woken, d.park.size(), d.spawn, retiring.size());
    return true;
}

sched::scaling_input engine_state::scaling_view(clock::time_point now,
                                                std::vector<std::size_t>& index) {
    sync_estimator();
    const auto load = estimator.snapshot();
    sched::scaling_input in;
    in.now = seconds_of(now - started);
    // Central work counts only if a worker brought in now could still finish it.
    const auto central = work_for_new_workers();
    in.backlog_seconds =
        load.total_backlog_seconds - load.central_backlog_seconds + central.seconds;
    in.queued_tasks = central.tasks;
    in.spawn_seconds = median(counters.spawn_seconds);
    in.seconds_left = seconds_left();
    // Satellites' workers come from allocations of their own: they take no slot here.
    const std::size_t live = live_workers() - satellite_workers();
    // No spawner (--tide-max-workers=0): a lost worker leaves a slot nobody may fill.
    in.slots_free = spawns && !spawning_off && policy.settings().max_workers > live
                        ? policy.settings().max_workers - live
                        : 0;
    if (nodes) in.slots_free = std::min(in.slots_free, node_slots_free());
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const worker_info& w = workers[i];
        if (!w.in_pool()) continue;
        sched::worker_view v;
        // A satellite's workers retire with it, as the satellite policy says (satellites.cpp).
        v.spawned = w.spawned && !w.satellite;
        v.phase = w.phase;
        index.push_back(i);
        if (v.phase == sched::worker_phase::starting) {
            in.spawn_in_flight = true;
            in.workers.push_back(v);
            continue;
        }
        // Work waiting on a worker: its queued children and what it holds beyond one task.
        in.queued_tasks += load.workers[i].queued + (w.load.in_hand > 1 ? w.load.in_hand - 1 : 0);
        // Idle: asked for work, holds none, and no steal on its behalf is on the way.
        const bool parked = w.phase == sched::worker_phase::parked;
        v.idle = !parked && w.idle();
        v.idle_for = parked   ? seconds_of(now - *w.parked_since)
                     : v.idle ? seconds_of(now - w.idle_from())
                              : 0;
        in.workers.push_back(v);
    }
    return in;
}

void engine_state::record_pool(const sched::scaling_input& in, const std::string& decision) {
    timeline_row row;
    row.seconds = in.now;
    row.queued = in.queued_tasks;
    row.backlog_seconds = in.backlog_seconds;
    for (const auto& v : in.workers) {
        if (v.phase == sched::worker_phase::parked) ++row.parked;
        if (v.phase == sched::worker_phase::starting) ++row.starting;
        if (v.phase == sched::worker_phase::active) ++(v.idle ? row.idle : row.busy);
    }
    observer.pool_row(std::move(row), decision);
}

void engine_state::wake(std::size_t i, clock::time_point now) {
    worker_info& w = workers[i];
    w.enter(sched::phase_event::wake);
    w.joined = now;
    places.place(i, shutting_down);  // a free place first, then back to work
    send_message(net, w.rank, wire::wake{});
    w.parked_seconds += seconds_of(now - *w.parked_since);
    w.parked_since.reset();
    observer.event(w.rank, "wake");
    w.load.accepting = true;
    w.dry = false;
    ++counters.wakes;
}

void engine_state::park(std::size_t i, clock::time_point now) {
    worker_info& w = workers[i];
    send_message(net, w.rank, wire::park{});
    places.leave(i);
    w.enter(sched::phase_event::park);
    w.parked_since = now;
    observer.event(w.rank, "park");
    w.hungry = false;
    w.load.accepting = false;
    ++counters.parks;
}

}  // namespace tide::detail
