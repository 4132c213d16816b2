#include "rank0/steal_broker.hpp"

#include <algorithm>
#include <string>

#include "protocol/messaging.hpp"
#include "tide/scheduler/dispatch.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

steal_broker::steal_broker(transport& net, worker_pool& workers,
                           const sched::load_estimator& estimator, const worker_places& places,
                           steal_counters& counters, std::vector<double>& round_trips_us)
    : net_(net),
      workers_(workers),
      estimator_(estimator),
      places_(places),
      counters_(counters),
      round_trips_us_(round_trips_us) {}

bool steal_broker::wanted() const {
    return std::any_of(workers_.begin(), workers_.end(),
                       [](const worker_info& w) { return w.hungry && !w.stealing && !w.gone(); });
}

bool steal_broker::order(clock::time_point now) {
    std::vector<bool> excluded(workers_.size());
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        const worker_info& w = workers_[i];
        // A worker given its only task just now has not started it (and keeps it) or has had
        // no time to spawn children: an order now would find it dry, and a dry worker is not
        // asked again until its next status, milliseconds later.
        const bool just_fed = w.load.in_hand == 1 && estimator_.worker(i).queued == 0 &&
                              now - w.last_batch.at < brokering_poll;
        excluded[i] =
            w.dry || w.being_robbed || w.gone() || !w.load.accepting || w.isolating || just_fed;
    }
    std::vector<sched::worker_estimate> view;
    for (std::size_t i = 0; i < workers_.size(); ++i) view.push_back(estimator_.worker(i));
    bool ordered = false;
    for (std::size_t thief = 0; thief < workers_.size(); ++thief) {
        worker_info& t = workers_[thief];
        // An isolating worker runs a task lost before, alone: nothing joins it, stolen or not.
        if (!t.hungry || t.stealing || t.gone() || t.phase == sched::worker_phase::retiring ||
            t.isolating)
            continue;
        const auto victim =
            sched::pick_victim(view, thief, excluded, places_.distances_from(thief));
        if (!victim) break;  // nobody has anything to give: the thief waits, still hungry
        const auto number = next_order_++;
        send_message(net_, workers_[*victim].rank,
                     wire::steal_order{number, static_cast<std::uint32_t>(t.rank)});
        in_flight_.emplace(number, steal_in_flight{thief, *victim, clock::now()});
        t.stealing = true;
        workers_[*victim].being_robbed = true;
        excluded[*victim] = true;
        ++counters_.orders;
        ordered = true;
    }
    return ordered;
}

steal_in_flight steal_broker::settle(std::size_t victim, std::span<const std::byte> body) {
    // The order is settled first, so that a malformed answer cannot leave thief and victim
    // marked as busy with it for ever.
    std::uint64_t number = 0;
    if (!wire::peek_batch_seq(body, number))
        throw protocol_error("tide: a stolen message too short to name its steal order");
    const auto it = in_flight_.find(number);
    if (it == in_flight_.end() || it->second.victim != victim)
        throw protocol_error("tide: answer to steal order " + std::to_string(number) +
                             ", which was not sent to this worker");
    const steal_in_flight order = it->second;
    in_flight_.erase(it);
    workers_[victim].being_robbed = false;
    workers_[order.thief].stealing = false;
    const double us = std::chrono::duration<double, std::micro>(clock::now() - order.sent).count();
    counters_.round_trip_max_us = std::max(counters_.round_trip_max_us, us);
    round_trips_us_.push_back(us);
    return order;
}

void steal_broker::forget_victim(std::size_t victim) {
    for (auto it = in_flight_.begin(); it != in_flight_.end();)
        if (it->second.victim == victim) {
            workers_[it->second.thief].stealing = false;
            it = in_flight_.erase(it);
        } else {
            ++it;
        }
}

}  // namespace tide::detail
