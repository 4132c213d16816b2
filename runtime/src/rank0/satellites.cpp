// Rank 0's satellites (--tide-satellites): Slurm jobs of workers, submitted when the backlog
// outlasts their queue wait (scheduler/satellite_policy), that join the run as one more group
// of workers — parked, woken, retired, lost, traced and counted like any other — and whose
// jobs end when they retire, giving their nodes back.

#include <algorithm>

#include <fmt/ranges.h>

#include "platform/log.hpp"
#include "rank0/engine_state.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

namespace {
// How often the satellite policy looks: submitting is slow (a queue wait of seconds at best),
// and its hold ticks should span seconds, not milliseconds.
constexpr auto satellite_tick = std::chrono::seconds(1);
}  // namespace

void engine_state::start_satellites(satellite_launch_settings settings) {
    sched::satellite_settings s;
    s.max_satellites = static_cast<std::size_t>(cfg.satellites);
    s.max_queued = static_cast<std::size_t>(cfg.satellite_queued);
    s.max_nodes = static_cast<std::size_t>(cfg.satellite_nodes);
    s.nodes_each = settings.request.nodes;
    s.time_limit = settings.request.time_limit;
    s.idle_retire = cfg.satellite_idle;
    satellites = std::make_unique<satellite_jobs>(std::move(settings));
    satellite_policy.emplace(s);
    satellites->ask_wait();
    log().info(
        "satellites: up to {} ({} queued at once), each submitted with sbatch{}{}, meeting "
        "rank 0 in {}",
        s.max_satellites, s.max_queued, satellites->request().options.empty() ? "" : " ",
        fmt::join(satellites->request().options, " "), satellites->run_dir());
}

void engine_state::stop_satellites() {
    if (satellites) satellites->stop_queued();
}

void engine_state::finish_satellites(clock::time_point deadline) {
    if (!satellites) return;
    // Those whose workers did not all end (a join that hung, a worker stuck): cancelled.
    std::vector<std::uint64_t> stuck;
    for (const auto& [id, rec] : satellite_records) {
        const auto g = rec.group ? groups.find(*rec.group) : groups.end();
        if (g == groups.end()) continue;  // not started, or its workers released
        bool all_gone = g->second.linked;
        for_members(g->second, [&](worker_info& w) { all_gone = all_gone && w.gone(); });
        if (!all_gone) stuck.push_back(id);
    }
    satellites->finish(deadline, stuck);
}

std::size_t engine_state::satellite_workers() const {
    std::size_t n = 0;
    for (const auto& [id, g] : groups)
        if (g.satellite)
            for (int r = g.first; r < g.first + g.count; ++r) n += !workers.of_rank(r)->gone();
    return n;
}

void engine_state::take_satellite_news() {
    // At the scaling policy's pace (a file to look at per queued satellite).
    if (!satellites || last_pump - last_satellite_poll < scaling_tick) return;
    last_satellite_poll = last_pump;
    for (const auto& e : satellites->poll(last_pump)) take_satellite_event(e);
}

void engine_state::tend_satellites(const sched::scaling_input& pool) {
    if (!satellites || shutting_down || last_pump - last_satellite_tick < satellite_tick) return;
    last_satellite_tick = last_pump;
    const double now = seconds_of(last_pump - started);

    sched::satellite_input in;
    in.now = now;
    in.backlog_seconds = pool.backlog_seconds;
    in.queued_tasks = pool.queued_tasks;
    for (const auto& v : pool.workers) {
        in.active_workers += v.phase == sched::worker_phase::active;
        in.parked_workers += v.phase == sched::worker_phase::parked;
    }
    in.slots_free = pool.slots_free;
    // A spawn into this allocation on its way (a satellite joining is not one).
    in.spawn_in_flight = std::any_of(groups.begin(), groups.end(), [](const auto& entry) {
        const spawn_group& g = entry.second;
        return !g.satellite && !g.linked && !g.abandoned;
    });
    in.longest_task = estimator.longest_queued_mean();
    in.join_seconds = median(counters.satellite_joins);
    in.seconds_left = pool.seconds_left;
    for (auto& [id, rec] : satellite_records) {
        // Its workers all gone (lost, or retired by the scaling policy) and released: its job
        // is ending.
        if (rec.group && !groups.count(*rec.group)) rec.state = sched::satellite_state::retiring;
        sched::satellite_view v;
        v.id = id;
        v.state = rec.state;
        if (rec.state == sched::satellite_state::running) {
            // Idle: every worker still there is idle or parked; since the latest ran dry
            // (parking comes later, and does not restart the count).
            v.idle = true;
            double idle_for = 1e300;
            for_members(groups.at(*rec.group), [&](worker_info& w) {
                if (w.gone()) return;
                const bool parked = w.phase == sched::worker_phase::parked;
                const bool idle = parked || w.idle();
                v.idle = v.idle && idle;
                if (idle) idle_for = std::min(idle_for, seconds_of(last_pump - w.idle_from()));
            });
            v.idle_for = v.idle && idle_for < 1e300 ? idle_for : 0;
        }
        in.satellites.push_back(v);
    }

    const bool was_paused = satellite_policy->paused();
    const auto d = satellite_policy->tick(in);
    if (!was_paused && satellite_policy->paused())
        log().warn("satellites: no more submitted in this run: {}", satellite_policy->paused_why());
    if (!d.reason.empty()) log().info("satellites: {}", d.reason);
    for (const auto id : d.cancel) {
        satellite_record& rec = satellite_records.at(id);
        rec.cancelled = true;
        rec.state = sched::satellite_state::retiring;
        satellites->cancel(id);
        observer.event(trace::pool, "satellite cancelled", fmt::format("satellite {}", id));
    }
    for (const auto id : d.retire) {
        satellite_record& rec = satellite_records.at(id);
        // Results kept on its workers would be lost with them: it stays until they are not.
        bool keeps = false;
        for_members(groups.at(*rec.group), [&](worker_info& w) {
            keeps = keeps || (!w.gone() && keeps_results(workers.index_of(w)));
        });
        if (keeps) continue;
        rec.state = sched::satellite_state::retiring;
        const auto view = std::find_if(in.satellites.begin(), in.satellites.end(),
                                       [&](const sched::satellite_view& v) { return v.id == id; });
        log().info("satellite {} (Slurm job {}) idle for {:.1f} s: retiring it", id, rec.job,
                   view->idle_for);
        retire_group(*rec.group);
    }
    if (d.submit && !server_gone()) {
        const auto id = next_satellite++;
        satellite_record rec;
        rec.submitted = last_pump;
        satellite_records.emplace(id, rec);
        satellites->submit(id);
        observer.event(trace::pool, "satellite submitted", fmt::format("satellite {}", id));
    }
}

bool engine_state::server_gone() {
    if (satellite_policy->paused()) return true;  // said already, or no more anyway
    // Refused at once where the server's host is up; a host gone may take the whole wait.
    if (satellites->server_answers(std::chrono::milliseconds(200))) return false;
    satellite_policy->pause("the ompi-server they join through (" + satellites->server() +
                            ") does not answer");
    log().warn(
        "satellites: no more in this run: the ompi-server they join through ({}) does "
        "not answer; the run goes on with the {} worker(s) it has",
        satellites->server(), live_workers());
    observer.note("ompi-server gone: no more satellites");
    return true;
}

void engine_state::take_satellite_event(const satellite_jobs::event& e) {
    const double now = seconds_of(last_pump - started);
    if (e.what == satellite_jobs::event::wait_guess) {
        satellite_policy->guess_wait(e.seconds);
        log().info("satellites: sbatch --test-only expects a satellite to start in {:.0f} s",
                   e.seconds);
        return;
    }
    auto it = satellite_records.find(e.id);
    if (it == satellite_records.end()) return;
    satellite_record& rec = it->second;
    switch (e.what) {
        case satellite_jobs::event::submitted:
            rec.job = e.job;
            ++counters.satellites_submitted;
            satellite_policy->submitted(now, true);
            log().info("satellite {} submitted as Slurm job {}", e.id, e.job);
            break;
        case satellite_jobs::event::submit_failed:
            ++counters.satellites_failed;
            satellite_policy->submitted(now, false);
            log().warn("satellite {}: sbatch failed: {}", e.id, e.detail);
            observer.note("satellite submission failed: " + e.detail);
            satellite_records.erase(it);
            break;
        case satellite_jobs::event::started:
            if (shutting_down || rec.cancelled) {
                satellites->cancel(e.id);
                break;
            }
            counters.satellite_waits.push_back(seconds_of(last_pump - rec.submitted));
            satellite_policy->started(counters.satellite_waits.back());
            satellite_started(e.id, e.tasks);
            break;
        case satellite_jobs::event::ended: {
            const std::string why = fmt::format("its Slurm job {} ended ({})", rec.job, e.detail);
            if (rec.group) {
                auto g = groups.find(*rec.group);
                if (g != groups.end()) {
                    if (!g->second.linked) {
                        if (!g->second.abandoned) spawns->give_up(*rec.group, why);
                    } else {
                        for_members(g->second, [&](worker_info& w) {
                            if (!w.gone()) lose_worker(workers.index_of(w), why);
                        });
                    }
                }
            }
            if (!rec.ran && !rec.cancelled && !rec.failed && !shutting_down) {
                ++counters.satellites_failed;
                satellite_policy->start_failed(now);
                log().warn("satellite {}: {} before its workers joined", e.id, why);
                observer.note("satellite failed to start: " + why);
            } else {
                log().info("satellite {}: {}", e.id, why);
            }
            observer.event(trace::pool, "satellite ended", fmt::format("satellite {}", e.id));
            satellite_records.erase(it);
            break;
        }
        case satellite_jobs::event::wait_guess:
            break;
    }
}

void engine_state::satellite_started(std::uint64_t id, int count) {
    satellite_record& rec = satellite_records.at(id);
    rec.state = sched::satellite_state::joining;
    rec.started = last_pump;
    const auto group = add_group(count, id);
    const spawn_group& g = groups.at(group);
    rec.group = group;
    log().info(
        "satellite {} (Slurm job {}) started after {:.1f} s in the queue: {} worker(s) "
        "joining as ranks {}..{}",
        id, rec.job, seconds_of(rec.started - rec.submitted), g.count, g.first,
        g.first + g.count - 1);
    observer.event(trace::pool, "satellite started",
                   fmt::format("satellite {}: ranks {}..{}", id, g.first, g.first + g.count - 1));
    // A failure is reported as a failed join by collect_spawns (satellite_joined).
    const auto port = open_port(group);
    if (!port) return;
    satellites->answer(id, g.first, *port);
    spawns->accept(group, g.count, *port);
}

void engine_state::satellite_joined(const spawn_group& g, bool joined) {
    auto it = satellite_records.find(*g.satellite);
    if (it == satellite_records.end()) return;
    satellite_record& rec = it->second;
    if (!joined) {
        // Its job runs on, or ends by itself: take it out of Slurm's hands now. The join may
        // have failed because the ompi-server is gone: then no other will do better.
        satellites->cancel(*g.satellite);
        rec.state = sched::satellite_state::retiring;
        rec.failed = true;
        ++counters.satellites_failed;
        satellite_policy->start_failed(seconds_of(last_pump - started));
        server_gone();
        return;
    }
    rec.ran = true;
    rec.state = sched::satellite_state::running;
    satellite_policy->joined();
    ++counters.satellites_joined;
    counters.satellite_joins.push_back(seconds_of(last_pump - rec.started));
    log().info(
        "satellite {} (Slurm job {}) joined: {} worker(s) in {:.3f} s after its start, "
        "{:.1f} s after its submission",
        *g.satellite, rec.job, g.count, seconds_of(last_pump - rec.started),
        seconds_of(last_pump - rec.submitted));
}

}  // namespace tide::detail
