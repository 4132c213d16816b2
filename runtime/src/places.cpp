// Where workers run, at rank 0: each worker reports the cores it may use (its hwloc topology
// within the cpuset it was given), rank 0 gives it a place (scheduler/placement.hpp) and the
// worker binds itself there and reads it back. Rank 0 takes the place workers would take last.
// A worker that parks or leaves frees its place; a woken or spawned one gets a free place.

#include <cstdio>

#include "engine_state.hpp"
#include "log.hpp"
#include "messaging.hpp"

namespace tide::detail {

sched::bind_policy bind_policy_of(const std::string& name) {
    if (name == "none") return sched::bind_policy::none;
    return name == "numa" ? sched::bind_policy::numa : sched::bind_policy::core;
}

sched::placement_policy placement_policy_of(const std::string& name) {
    return name == "scatter" ? sched::placement_policy::scatter : sched::placement_policy::compact;
}

namespace {
std::vector<int> indices(const std::vector<sched::core_info>& cores) {
    std::vector<int> out;
    for (const auto& c : cores) out.push_back(c.index);
    return out;
}
}  // namespace

void engine_state::place_rank0() {
    if (places.bind() == sched::bind_policy::none) return;
    try {
        own_machine = std::make_unique<machine_binding>();
    } catch (const std::exception& e) {
        log().warn("{}; no rank is bound", e.what());
        return;
    }
    const auto& view = own_machine->view();
    places.add_cores(host, view.cores);
    const auto at = places.assign_rank0(host, indices(view.cores));
    if (!at.bound) return;
    const auto r = own_machine->bind(at.pus);
    own_binding = r.bound;
    if (!r.ok) log().warn("rank 0 could not bind itself ({}); it runs unbound", r.error);
    bindings_changed = true;
}

void engine_state::accept_topology(std::size_t w, std::span<const std::byte> body) {
    auto t = wire::decode<wire::topology>(body);
    worker_info& worker = workers[w];
    worker.machine = t.summary;
    worker.given = t.given;
    std::vector<sched::core_info> cores;
    for (const auto& c : t.cores) {
        sched::core_info info;
        info.index = static_cast<int>(c.core);
        info.numa = static_cast<int>(c.numa);
        info.package = static_cast<int>(c.package);
        try {
            info.pus = sched::from_list(c.pus);
        } catch (const std::invalid_argument& e) {
            throw protocol_error(std::string("tide: topology: ") + e.what());
        }
        cores.push_back(std::move(info));
    }
    worker.cores = indices(cores);
    places.add_cores(worker.host, cores);
    if (cores.empty() && places.bind() != sched::bind_policy::none)
        log().warn("rank {} on {} reported no core it may use ({}); it runs unbound", worker.rank,
                   worker.host, t.summary);
    if (!worker.parked) place_worker(w);
    bindings_changed = true;
}

void engine_state::place_worker(std::size_t w) {
    worker_info& worker = workers[w];
    // Nothing goes to a worker after its shutdown: it would never take it, and a message left
    // unreceived when the communicator is freed corrupts matching on the next one that reuses
    // its context id (a later message is lost).
    if (places.bind() == sched::bind_policy::none || worker.cores.empty() || worker.gone ||
        worker.retiring || shutting_down)
        return;
    const auto before = places.place_of(worker.rank);
    const auto at = places.assign(worker.rank, worker.host, worker.cores);
    if (!at.bound) return;
    if (at.shares_with_worker && !warned_sharing) {
        warned_sharing = true;
        log().warn(
            "more workers than cores on {} ({} core(s) for them): workers share cores, and "
            "their tasks run slower",
            worker.host, places.cores(worker.host).size());
    }
    if (before && before->pus == at.pus && !worker.binding.empty()) return;  // already there
    send_message(net, worker.rank, wire::bind{sched::to_list(at.pus)});
    worker.awaiting_bound = true;
}

void engine_state::leave_place(std::size_t w) {
    if (places.place_of(workers[w].rank)) {
        places.release(workers[w].rank);
        bindings_changed = true;
    }
}

void engine_state::accept_bound(std::size_t w, std::span<const std::byte> body) {
    const auto b = wire::decode<wire::bound>(body);
    worker_info& worker = workers[w];
    worker.awaiting_bound = false;
    worker.binding = b.pus;
    worker.binding_error = b.error;
    if (!b.ok)
        log().warn("rank {} on {} could not be bound ({}); it runs where it is", worker.rank,
                   worker.host, b.error);
    bindings_changed = true;
}

std::vector<int> engine_state::distances_from(std::size_t thief) const {
    std::vector<int> d(workers.size(), 2);
    const auto& t = workers[thief];
    const auto t_place = places.place_of(t.rank);
    for (std::size_t i = 0; i < workers.size(); ++i) {
        if (workers[i].host != t.host) continue;
        const auto v_place = places.place_of(workers[i].rank);
        d[i] = t_place && v_place && t_place->numa == v_place->numa ? 0 : 1;
    }
    return d;
}

void engine_state::report_bindings() {
    if (!cfg.report_bindings || !bindings_changed || shutting_down) return;
    // Once the picture is complete: every worker has said where it may run and answered its
    // last bind order (one print at start-up, not one per worker).
    for (const auto& w : workers)
        if (!w.gone && !w.starting && (w.machine.empty() || w.awaiting_bound)) return;
    bindings_changed = false;
    const auto line = [&](int rank, const std::string& on, const std::string& bound,
                          const std::string& why) {
        const auto at = places.place_of(rank);
        std::string where = bound.empty() ? "unbound" : "PUs " + bound;
        if (at && at->core >= 0) where = "core " + std::to_string(at->core) + ", " + where;
        if (at && at->numa >= 0) where += ", NUMA " + std::to_string(at->numa);
        if (!why.empty()) where += " (" + why + ")";
        std::fprintf(stderr, "[tide bindings] rank %d on %s: %s\n", rank, on.c_str(),
                     where.c_str());
    };
    line(0, host, own_binding, "");
    for (const auto& w : workers)
        if (!w.gone && !w.starting && !w.machine.empty())
            line(w.rank, w.host, w.binding,
                 w.parked ? "parked: its place is free for others" : w.binding_error);
    std::fflush(stderr);
}

}  // namespace tide::detail
