#pragma once
// How many workers the run should have: the elastic policy, pure. Each tick it sees the load
// estimator's backlog and every worker's state, and answers with wake k, spawn k, park these,
// retire these, and why. It does not flap: a wish to spawn or shrink must hold for a few ticks
// (waking a parked worker is immediate: cheap, and a burst must not wait),
// shrinking needs the backlog well below what the remaining workers could carry (hysteresis),
// a worker is parked only after it has been idle a while and retired only after it has been
// parked much longer, and a failed spawn backs off exponentially. A spawn is worth it only for
// work that will still be there when the new worker is up: the backlog the pool would clear
// during a spawn's measured latency does not count toward it. Nor is a spawn started that
// could not be up before the job's end.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tide/scheduler/worker_phase.hpp"

namespace tide::sched {

struct policy_settings {
    std::size_t min_workers = 0;
    std::size_t max_workers = 1;
    double target_backlog = 1.0;  // seconds of queued work per worker to aim for
    double idle_park = 2.0;       // seconds a worker is idle before it is parked
    double idle_retire = 30.0;    // seconds a spawned worker is parked before it retires
    double cooldown = 2.0;        // seconds without spawning after a failed spawn (doubles)
    int hold_ticks = 2;           // ticks a wish to spawn or park must last
    // Shrink only while the backlog is below this share of what the workers left after
    // parking could carry at the target: the gap to the grow threshold is the hysteresis.
    double shrink_ratio = 0.5;
};

// A worker in the pool: starting, active or parked.
struct worker_view {
    worker_phase phase = worker_phase::active;
    bool spawned = false;  // may retire (ranks started by mpirun are parked, never retired)
    bool idle = false;     // active with nothing in hand and asking for work
    double idle_for = 0;   // seconds idle (active) or parked (parked)
};

struct scaling_input {
    double now = 0;
    // The load estimator's total. Late in a job, rank 0 counts only the work that a new
    // worker could still finish before the end.
    double backlog_seconds = 0;
    std::size_t queued_tasks = 0;  // tasks waiting anywhere (work exists before durations do)
    std::vector<worker_view> workers;
    std::size_t slots_free = 0;  // processes that may still be spawned within the slot limit
    bool spawn_in_flight = false;
    double spawn_seconds = 0;  // how long spawns have taken so far (0: none yet)
    // Until the job's time limit (a batch system's wall time); infinite when there is none.
    double seconds_left = std::numeric_limits<double>::infinity();
};

struct scaling_decision {
    std::size_t wake = 0;
    std::size_t spawn = 0;
    std::vector<std::size_t> park;    // worker indices
    std::vector<std::size_t> retire;  // worker indices
    std::string reason;               // the numbers behind it; empty when nothing changes
    bool empty() const { return wake == 0 && spawn == 0 && park.empty() && retire.empty(); }
};

class scaling_policy {
public:
    explicit scaling_policy(policy_settings settings) : s_(settings) {}

    scaling_decision tick(const scaling_input& in);
    // A spawn did not complete: no spawning for a while, twice as long each time in a row.
    void spawn_failed(double now);
    void spawn_succeeded() { backoff_ = -1; }
    // Spawning is paused after a failure until then.
    bool spawn_blocked(double now) const { return now < spawn_blocked_until_; }

    // Workers the input calls for: enough to bring each one's backlog to the target, never
    // fewer than are busy, within [min, max].
    std::size_t wanted(const scaling_input& in) const;
    const policy_settings& settings() const { return s_; }

private:
    // Workers worth spawning beyond `capacity`: enough for the backlog left once a spawn of
    // the measured latency is up.
    std::size_t worth_spawning(const scaling_input& in, std::size_t capacity) const;
    policy_settings s_;
    int grow_ticks_ = 0;
    int shrink_ticks_ = 0;
    double spawn_blocked_until_ = 0;
    double backoff_ = -1;  // set from the settings on the first failure
};

}  // namespace tide::sched
