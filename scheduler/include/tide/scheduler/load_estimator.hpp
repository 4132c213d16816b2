#pragma once
// Rank 0's picture of the load: how long tasks take, and how many seconds of work each worker
// and the central queue hold. It is fed only by what rank 0 sees anyway (what it dispatched,
// and the status that workers piggyback on their traffic), so it costs no extra messages. Its
// estimates pick steal victims, and are the input of the scaling policy.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tide::sched {

// Exponentially weighted mean and variance (Finch, "Incremental calculation of weighted mean
// and variance", 2009), updated with whole batches of samples: a batch of n samples moves the
// estimate as far as n single updates with the same batch mean would.
struct ewma_stats {
    double mean = 0;
    double variance = 0;
    std::uint64_t samples = 0;
    // The mean of the latest batch alone: the best guess for the next one when a task's
    // length changes (the weighted mean takes a dozen samples to follow).
    double latest = 0;

    void add(std::uint64_t count, double sum, double sum_of_squares, double alpha);
};

// One worker as a steal decision sees it.
struct worker_estimate {
    std::uint32_t in_hand = 0;   // tasks rank 0 sent it that have not come back
    std::uint32_t queued = 0;    // nested tasks in its own deque (as last reported)
    double busy_fraction = 0;    // recent share of time spent running tasks
    double task_seconds = 0;     // recent mean duration of the tasks it ran
    double backlog_seconds = 0;  // (in_hand + queued) * task_seconds
    bool hungry = false;         // asked for work, not yet served
    bool parked = false;         // idling at a slow poll until woken (elasticity)
};

struct load_snapshot {
    std::vector<worker_estimate> workers;  // worker i is rank i + 1
    std::size_t central_queued = 0;        // tasks in rank 0's queue
    double central_backlog_seconds = 0;
    double total_backlog_seconds = 0;  // central plus every worker's
};

class load_estimator {
public:
    explicit load_estimator(double alpha = 0.2) : alpha_(alpha) {}

    void resize(std::size_t workers) { workers_.resize(workers); }
    std::size_t size() const { return workers_.size(); }

    // Durations of tasks of one name, summarised as count, sum and sum of squares (seconds).
    void record_durations(std::uint64_t name, std::uint64_t count, double sum,
                          double sum_of_squares);
    // A worker's status: its deque length, and over the last `span` seconds, time busy and
    // tasks run.
    void record_status(std::size_t worker, std::uint32_t queued, double busy, double span,
                       std::uint64_t executed);
    void set_in_hand(std::size_t worker, std::uint32_t in_hand) {
        workers_[worker].in_hand = in_hand;
    }
    void set_hungry(std::size_t worker, bool hungry) { workers_[worker].hungry = hungry; }

    // Tasks entering and leaving rank 0's central queue, by name.
    void queued_centrally(std::uint64_t name, std::int64_t delta);

    const ewma_stats* duration_of(std::uint64_t name) const;
    // Whether a task of this name is expected to finish within `seconds`: its mean duration
    // fits, or nothing is known about it yet (no reason to hold it back).
    bool fits(std::uint64_t name, double seconds) const;
    // The tasks in the central queue that fit within `seconds` (see fits()), and their
    // estimated seconds of work.
    struct queued_work {
        std::size_t tasks = 0;
        double seconds = 0;
    };
    queued_work central_fitting(double seconds) const;
    // The longest mean duration among the names queued centrally (0 when none is known).
    double longest_queued_mean() const;
    // The mean over every name, weighted by how often each ran; 0 before any sample.
    double overall_task_seconds() const;
    const worker_estimate& worker(std::size_t w) const { return workers_[w]; }
    double central_backlog_seconds() const;
    load_snapshot snapshot() const;

private:
    struct name_entry {
        std::uint64_t name;
        ewma_stats stats;
        std::int64_t queued = 0;  // in the central queue
    };
    name_entry& entry(std::uint64_t name);
    void refresh_backlog(worker_estimate& w) const;

    double alpha_;
    std::vector<name_entry> names_;  // few names in practice: a flat vector beats a map
    std::vector<worker_estimate> workers_;
};

// The steal victim for `thief`: the worker with the most estimated backlog among those that may
// have something to give (nested tasks queued, or tasks in hand, which may be spawning), that
// are not themselves hungry and not `excluded` (already serving a steal, or found dry). When
// estimates are close (within `close_share` of the best), the nearest wins: `distance[i]` is 0
// on the thief's NUMA node, 1 on its host, 2 elsewhere (HPX's NUMA-sensitive stealing: moving
// work far costs more than a small difference in backlog). No distances: all equally near.
inline constexpr double close_share = 0.8;
std::optional<std::size_t> pick_victim(std::span<const worker_estimate> workers, std::size_t thief,
                                       const std::vector<bool>& excluded,
                                       std::span<const int> distance = {});

}  // namespace tide::sched
