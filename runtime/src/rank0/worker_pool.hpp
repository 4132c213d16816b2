#pragma once
// Rank 0's table of workers: what it knows of each (where it runs, what it holds, where it is
// in its life), and the one place that maps an MPI rank to a worker.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/wire.hpp"
#include "tide/scheduler/batch_ledger.hpp"
#include "tide/scheduler/dispatch.hpp"
#include "tide/scheduler/worker_phase.hpp"

namespace tide::detail {

struct worker_info {
    int rank = -1;
    std::string host = "?";  // known once its hello arrives
    sched::worker_load load;
    // Where it is in its life; changed only through enter(), by the rules of sched::after.
    sched::worker_phase phase = sched::worker_phase::active;
    void enter(sched::phase_event e) { phase = sched::after(phase, e); }
    // Gone for good: said goodbye, lost, or never started.
    bool gone() const { return sched::has_left(phase); }
    bool hungry = false;          // asked for work; cleared by any task_batch sent to it
    bool dry = false;             // answered a steal with nothing; cleared by news of work
    bool stealing = false;        // a steal order on its behalf is outstanding
    bool being_robbed = false;    // a steal order to it is outstanding
    bool rejected = false;        // speaks another protocol version: never used
    bool spawned = false;         // started by rank 0 (may retire), not by the launcher
    bool satellite = false;       // of a satellite (a Slurm job rank 0 submitted)
    std::uint64_t group = 0;      // the spawn that started it (0: started by the launcher)
    std::vector<int> cores;       // the cores it may use, from its topology report
    std::string machine;          // its topology summary (or why it has none)
    std::string given;            // the PUs it started bound to
    std::string binding;          // the PUs it is bound to, as it read them back ("": unbound)
    std::string binding_error;    // why its last binding failed
    bool awaiting_bound = false;  // a bind order is on its way
    bool heard = false;           // any message has come from it (its hello, at first)
    bool isolating = false;       // holds a task lost before: nothing else is sent meanwhile
    std::size_t ahead = 0;        // graph tasks sent ahead to wait there for inputs, or running
    // Tasks rank 0 sent it that have not come back: in hand, or sent ahead.
    std::size_t holding() const { return load.in_hand + ahead; }
    // Idle: asked for work, holds none, and no steal on its behalf is on the way; since when
    // (it last ran dry).
    bool idle() const { return hungry && holding() == 0 && !stealing; }
    std::chrono::steady_clock::time_point idle_from() const {
        return std::max(idle_since, last_result);
    }
    std::chrono::steady_clock::time_point last_heard;  // its last message of any kind
    // When it joined the pool: the start for a rank the launcher started, else when its spawn
    // completed or it was last woken. Late in a job it starts no task that could no longer
    // finish when it joined (see take_from_queue).
    std::chrono::steady_clock::time_point joined;
    // In the pool: starting, active or parked, and not refused.
    bool in_pool() const {
        return !rejected &&
               (phase == sched::worker_phase::starting || phase == sched::worker_phase::active ||
                phase == sched::worker_phase::parked);
    }
    // How the run's statistics name its state: lost, retired, ended, parked (a worker retiring
    // from a park too) or active.
    const char* state_name() const {
        switch (phase) {
            case sched::worker_phase::lost:
                return "lost";
            case sched::worker_phase::retired:
                return "retired";
            case sched::worker_phase::ended:
            case sched::worker_phase::never_started:
                return "ended";
            default:
                return parked_since ? "parked" : "active";
        }
    }
    std::chrono::steady_clock::time_point last_result;  // when its last results arrived
    std::chrono::steady_clock::time_point idle_since;   // when it last became hungry
    // Since when it has been parked: set by a park, cleared by a wake (kept while a parked
    // worker retires).
    std::optional<std::chrono::steady_clock::time_point> parked_since;
    // For the run's statistics: results it returned, what its statuses said it ran (task
    // frames, seconds in them), when it first joined and left the pool, time spent parked.
    std::uint64_t results = 0;
    std::uint64_t executed = 0;
    double busy_seconds = 0;
    std::optional<std::chrono::steady_clock::time_point> first_joined, left_at;
    double parked_seconds = 0;
    sched::batch_ledger batches;  // the task batches sent to it, and which it has
    // The last batch sent: its tasks' name (that of the last one), how many, when, and whether
    // that one is a lent child.
    struct {
        std::uint64_t name = 0;
        std::size_t tasks = 0;
        std::chrono::steady_clock::time_point at;
        bool lent = false;
    } last_batch;
    wire::goodbye farewell;
};

// The workers by number: worker i is the i-th rank rank 0 knows of (the launcher's ranks 1..n-1,
// then those it spawned, in order), so its MPI rank is i + 1.
class worker_pool {
public:
    worker_info& operator[](std::size_t w) { return workers_[w]; }
    const worker_info& operator[](std::size_t w) const { return workers_[w]; }
    std::size_t size() const { return workers_.size(); }
    bool empty() const { return workers_.empty(); }
    auto begin() { return workers_.begin(); }
    auto end() { return workers_.end(); }
    auto begin() const { return workers_.begin(); }
    auto end() const { return workers_.end(); }
    // Adds the worker of the next rank.
    worker_info& add() {
        worker_info& w = workers_.emplace_back();
        w.rank = static_cast<int>(workers_.size());
        return w;
    }
    // The worker on MPI rank `rank`; nullptr for a rank that is no worker (rank 0, or beyond).
    worker_info* of_rank(int rank) {
        if (rank < 1 || rank > static_cast<int>(workers_.size())) return nullptr;
        return &workers_[static_cast<std::size_t>(rank - 1)];
    }
    const worker_info* of_rank(int rank) const {
        return const_cast<worker_pool*>(this)->of_rank(rank);
    }
    std::size_t index_of(const worker_info& w) const {
        return static_cast<std::size_t>(&w - workers_.data());
    }

private:
    std::vector<worker_info> workers_;
};

}  // namespace tide::detail
