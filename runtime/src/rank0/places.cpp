#include "rank0/places.hpp"

#include <cstdio>

#include "platform/log.hpp"
#include "protocol/messaging.hpp"

namespace tide::detail {

namespace {
sched::bind_policy bind_policy_of(const std::string& name) {
    if (name == "none") return sched::bind_policy::none;
    return name == "numa" ? sched::bind_policy::numa : sched::bind_policy::core;
}

sched::placement_policy placement_policy_of(const std::string& name) {
    return name == "scatter" ? sched::placement_policy::scatter : sched::placement_policy::compact;
}

std::vector<int> indices(const std::vector<sched::core_info>& cores) {
    std::vector<int> out;
    for (const auto& c : cores) out.push_back(c.index);
    return out;
}
}  // namespace

worker_places::worker_places(const config& cfg, transport& net, worker_pool& workers,
                             std::string host)
    : cfg_(cfg),
      net_(net),
      workers_(workers),
      host_(std::move(host)),
      places_(bind_policy_of(cfg.bind), placement_policy_of(cfg.placement)) {}

void worker_places::place_rank0() {
    if (places_.bind() == sched::bind_policy::none) return;
    try {
        own_machine_ = std::make_unique<machine_binding>();
    } catch (const std::exception& e) {
        log().warn("{}; no rank is bound", e.what());
        return;
    }
    const auto& view = own_machine_->view();
    places_.add_cores(host_, view.cores);
    const auto at = places_.assign_rank0(host_, indices(view.cores));
    if (!at.bound) return;
    const auto r = own_machine_->bind(at.pus);
    own_binding_ = r.bound;
    if (!r.ok) log().warn("rank 0 could not bind itself ({}); it runs unbound", r.error);
    changed_ = true;
}

void worker_places::accept_topology(std::size_t w, const wire::topology& t, bool shutting_down) {
    worker_info& worker = workers_[w];
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
    places_.add_cores(worker.host, cores);
    if (cores.empty() && places_.bind() != sched::bind_policy::none)
        log().warn("rank {} on {} reported no core it may use ({}); it runs unbound", worker.rank,
                   worker.host, t.summary);
    if (worker.phase != sched::worker_phase::parked) place(w, shutting_down);
    changed_ = true;
}

void worker_places::place(std::size_t w, bool shutting_down) {
    worker_info& worker = workers_[w];
    // Nothing goes to a worker after its shutdown: it would never take it, and a message left
    // unreceived when the communicator is freed corrupts matching on the next one that reuses
    // its context id (a later message is lost).
    if (places_.bind() == sched::bind_policy::none || worker.cores.empty() || worker.gone() ||
        worker.phase == sched::worker_phase::retiring || shutting_down)
        return;
    const auto before = places_.place_of(worker.rank);
    const auto at = places_.assign(worker.rank, worker.host, worker.cores);
    if (!at.bound) return;
    if (at.shares_with_worker && !warned_sharing_) {
        warned_sharing_ = true;
        log().warn(
            "more workers than cores on {} ({} core(s) for them): workers share cores, and "
            "their tasks run slower",
            worker.host, places_.cores(worker.host).size());
    }
    if (before && before->pus == at.pus && !worker.binding.empty()) return;  // already there
    send_message(net_, worker.rank, wire::bind{sched::to_list(at.pus)});
    worker.awaiting_bound = true;
}

void worker_places::leave(std::size_t w) {
    if (places_.place_of(workers_[w].rank)) {
        places_.release(workers_[w].rank);
        changed_ = true;
    }
}

void worker_places::accept_bound(std::size_t w, const wire::bound& b) {
    worker_info& worker = workers_[w];
    worker.awaiting_bound = false;
    worker.binding = b.pus;
    worker.binding_error = b.error;
    if (!b.ok)
        log().warn("rank {} on {} could not be bound ({}); it runs where it is", worker.rank,
                   worker.host, b.error);
    changed_ = true;
}

std::vector<int> worker_places::distances_from(std::size_t thief) const {
    std::vector<int> d(workers_.size(), 2);
    const auto& t = workers_[thief];
    const auto t_place = places_.place_of(t.rank);
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        if (workers_[i].host != t.host) continue;
        const auto v_place = places_.place_of(workers_[i].rank);
        d[i] = t_place && v_place && t_place->numa == v_place->numa ? 0 : 1;
    }
    return d;
}

void worker_places::report(bool shutting_down) {
    if (!cfg_.report_bindings || !changed_ || shutting_down) return;
    // Once the picture is complete: every worker has said where it may run and answered its
    // last bind order (one print at start-up, not one per worker).
    for (const auto& w : workers_)
        if (!w.gone() && w.phase != sched::worker_phase::starting &&
            (w.machine.empty() || w.awaiting_bound))
            return;
    changed_ = false;
    const auto line = [&](int rank, const std::string& on, const std::string& bound,
                          const std::string& why) {
        const auto at = places_.place_of(rank);
        std::string where = bound.empty() ? "unbound" : "PUs " + bound;
        if (at && at->core >= 0) where = "core " + std::to_string(at->core) + ", " + where;
        if (at && at->numa >= 0) where += ", NUMA " + std::to_string(at->numa);
        if (!why.empty()) where += " (" + why + ")";
        std::fprintf(stderr, "[tide bindings] rank %d on %s: %s\n", rank, on.c_str(),
                     where.c_str());
    };
    line(0, host_, own_binding_, "");
    for (const auto& w : workers_)
        if (!w.gone() && w.phase != sched::worker_phase::starting && !w.machine.empty())
            line(w.rank, w.host, w.binding,
                 w.parked_since ? "parked: its place is free for others" : w.binding_error);
    std::fflush(stderr);
}

}  // namespace tide::detail
