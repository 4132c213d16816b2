#pragma once
// Work stealing through rank 0: a hungry worker (one that asked for work rank 0's queue could
// not give) gets a steal order sent on its behalf to the victim the load estimates point at,
// nearest first; the victim answers with exactly one `stolen`. At most one order is out per
// thief and per victim. The broker owns the orders in flight; what the victim gave is
// accounted by the engine (engine_state::accept_stolen).

#include <chrono>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "mpi/transport.hpp"
#include "rank0/places.hpp"
#include "rank0/worker_pool.hpp"
#include "tide/load.hpp"
#include "tide/scheduler/load_estimator.hpp"

namespace tide::detail {

// How long rank 0 sleeps at most between polls while a worker waits for work through it.
constexpr auto brokering_poll = std::chrono::microseconds(200);

// A steal order on its way: who asked, who gives, since when.
struct steal_in_flight {
    std::size_t thief;
    std::size_t victim;
    std::chrono::steady_clock::time_point sent;
};

class steal_broker {
public:
    // `round_trips_us`: each order's time from sent to answered, for the run's median.
    steal_broker(transport& net, worker_pool& workers, const sched::load_estimator& estimator,
                 const worker_places& places, steal_counters& counters,
                 std::vector<double>& round_trips_us);

    // A worker waits for an order to be sent for it.
    bool wanted() const;
    // Orders steals for hungry workers (the estimator must be current); true if any went.
    bool order(std::chrono::steady_clock::time_point now);
    // The order a victim's `stolen` answers, no longer in flight (throws protocol_error if it
    // names none sent to this victim).
    steal_in_flight settle(std::size_t victim, std::span<const std::byte> body);
    bool in_flight() const { return !in_flight_.empty(); }
    // A lost worker: the orders it was the victim of are over (its thief may be served again);
    // one it was the thief of stays open, and its answer finds the thief gone.
    void forget_victim(std::size_t victim);

private:
    transport& net_;
    worker_pool& workers_;
    const sched::load_estimator& estimator_;
    const worker_places& places_;
    steal_counters& counters_;
    std::vector<double>& round_trips_us_;
    std::unordered_map<std::uint64_t, steal_in_flight> in_flight_;  // by order number
    std::uint64_t next_order_ = 1;
};

}  // namespace tide::detail
