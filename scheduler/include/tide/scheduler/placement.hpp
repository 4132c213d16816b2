#pragma once
// Where each worker runs: rank 0's core assignment, pure. Each host's cores (as its workers'
// hwloc topologies report them) are shared among the workers on that host so that no two
// workers share a core while a free one remains; rank 0 takes the place the workers would take
// last. A worker that leaves (retired, parked, gone) frees its place for the next one.
//
// Policies: bind to a core or to a NUMA node (or not at all), and fill the host compactly
// (core after core, NUMA node after NUMA node) or scattered (one core on each NUMA node and
// package in turn, then the second, ...).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tide::sched {

enum class bind_policy { none, core, numa };
enum class placement_policy { compact, scatter };

// One core of a host, as hwloc reports it.
struct core_info {
    int index = 0;         // the core's number on its host (hwloc's logical index)
    std::vector<int> pus;  // its processing units (OS indices: what the OS binds to)
    int numa = 0;          // the NUMA node it belongs to (OS index)
    int package = 0;       // its socket (OS index)
};

struct place {
    bool bound = false;    // false: nothing assigned (binding off, or no core allowed)
    std::vector<int> pus;  // the PUs to bind to
    int core = -1;         // the core (bind core), -1 for a NUMA binding
    int numa = -1;
    bool shares_with_worker = false;  // no free core was left: it shares with another worker
};

class placement {
public:
    placement(bind_policy bind, placement_policy order) : bind_(bind), order_(order) {}

    // Adds cores of `host` (a worker reports the cores it may use; reports add up).
    void add_cores(const std::string& host, const std::vector<core_info>& cores);
    // A place for worker `who` (any id but rank 0's) among the cores it may use (by index; empty:
    // every core of the host). Replaces the worker's previous place.
    place assign(int who, const std::string& host, const std::vector<int>& allowed);
    // Rank 0's place: the core the workers would take last, so that it does not sit on a
    // worker's core while a spare one exists. Counts half a worker.
    place assign_rank0(const std::string& host, const std::vector<int>& allowed);
    void release(int who);

    // The place of `who`, if it has one.
    std::optional<place> place_of(int who) const;
    std::vector<core_info> cores(const std::string& host) const;
    bind_policy bind() const { return bind_; }

private:
    struct host_state {
        std::map<int, core_info> cores;  // by index
    };
    struct occupant {
        std::string host;
        place where;
        int weight;  // 2 for a worker, 1 for rank 0 (mostly waiting)
    };
    // The host's allowed cores, in the order the policy fills them.
    std::vector<const core_info*> ordered(const host_state& h,
                                          const std::vector<int>& allowed) const;
    // Occupancy of each core of `host` (sum of weights).
    std::map<int, int> load_of(const std::string& host) const;
    place choose(int who, const std::string& host, const std::vector<int>& allowed, int weight,
                 bool last);

    bind_policy bind_;
    placement_policy order_;
    std::map<std::string, host_state> hosts_;
    std::map<int, occupant> occupants_;
};

// "0-3,8,10-11" for a sorted list of indices.
std::string to_list(const std::vector<int>& ids);
// The indices of a list like "0-3,8"; throws std::invalid_argument for anything else.
std::vector<int> from_list(const std::string& text);

}  // namespace tide::sched
