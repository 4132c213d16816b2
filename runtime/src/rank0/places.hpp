#pragma once
// Where workers run, at rank 0: each worker reports the cores it may use (its hwloc topology
// within the cpuset it was given), rank 0 gives it a place (scheduler/placement.hpp) and the
// worker binds itself there and reads it back. Rank 0 takes the place workers would take last.
// A worker that parks or leaves frees its place; a woken or spawned one gets a free place.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mpi/transport.hpp"
#include "platform/binding.hpp"
#include "platform/config.hpp"
#include "rank0/worker_pool.hpp"
#include "tide/scheduler/placement.hpp"

namespace tide::detail {

class worker_places {
public:
    worker_places(const config& cfg, transport& net, worker_pool& workers, std::string host);

    // Binds rank 0 itself (unless --tide-bind=none), to the place workers would take last.
    void place_rank0();
    // A worker's topology report: the cores it may use; it is given a place unless parked.
    void accept_topology(std::size_t worker, const wire::topology& t, bool shutting_down);
    // A worker's answer to its bind order.
    void accept_bound(std::size_t worker, const wire::bound& b);
    // Gives the worker a place and tells it (no-op with --tide-bind=none, no cores known, or
    // a worker on its way out).
    void place(std::size_t worker, bool shutting_down);
    void leave(std::size_t worker);
    // 0: same NUMA node as `thief`, 1: same host, 2: elsewhere.
    std::vector<int> distances_from(std::size_t thief) const;
    // Prints the map if it changed and --tide-report-bindings asks, once every worker has
    // said where it may run and answered its last bind order.
    void report(bool shutting_down);
    bool changed() const { return changed_; }

private:
    const config& cfg_;
    transport& net_;
    worker_pool& workers_;
    std::string host_;
    sched::placement places_;
    std::unique_ptr<machine_binding> own_machine_;  // rank 0's own place (null: unbound)
    std::string own_binding_;
    bool changed_ = false;
    bool warned_sharing_ = false;
};

}  // namespace tide::detail
