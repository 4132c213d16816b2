// The job's end on rank 0: a batch job has a wall time limit, after which the batch system
// kills it. Late in the job, workers that rank 0 brings into the pool (spawned or woken) start
// only tasks expected to finish before the end, the policy grows the pool only for such work,
// and a warning says when the end is near and what is still undone.

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine_state.hpp"
#include "log.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

double engine_state::seconds_left() const {
    if (!ends_at) return std::numeric_limits<double>::infinity();
    return std::chrono::duration<double>(*ends_at - clock::now()).count();
}

void engine_state::take_from_queue(std::size_t count, bool brought_in,
                                   std::vector<sched::task_id>& out) {
    out.clear();
    const double left = seconds_left();
    if (!brought_in || !std::isfinite(left)) {
        while (out.size() < count && !queue.empty()) {
            out.push_back(queue.front());
            queue.pop_front();
        }
        return;
    }
    // Late in the job: one pass over the queue at most, and none when the estimator knows
    // that nothing queued fits. A task whose duration is not known yet is not held back.
    if (estimator.central_fitting(left).tasks == 0) return;
    passed_over.clear();
    while (out.size() < count && !queue.empty()) {
        const auto id = queue.front();
        queue.pop_front();
        (estimator.fits(tasks.find(id)->name_hash, left) ? out : passed_over).push_back(id);
    }
    for (std::size_t k = passed_over.size(); k-- > 0;) queue.push_front(passed_over[k]);
}

sched::load_estimator::queued_work engine_state::work_for_new_workers() const {
    const double left = seconds_left();
    if (!std::isfinite(left)) return {queue.size(), estimator.central_backlog_seconds()};
    // A spawned worker is up only after a spawn's latency (a woken one sooner: the margin is
    // small either way).
    return estimator.central_fitting(left - median(counters.spawn_seconds));
}

void engine_state::warn_near_end() {
    if (!ends_at || end_warned) return;
    const double left = seconds_left();
    if (left > end_warning_seconds) return;
    end_warned = true;
    const std::size_t undone = queue.size() + running();
    if (undone == 0) {
        log().warn("the job ends in {:.0f} s ({}); no task is outstanding", std::max(left, 0.0),
                   ends_by);
        return;
    }
    const std::size_t fitting = std::min(queue.size(), estimator.central_fitting(left).tasks);
    log().warn(
        "the job ends in {:.0f} s ({}): {} task(s) queued and {} running, about {:.0f} s of "
        "work; {} queued task(s) are not expected to finish in time, and new workers do not "
        "start them. Results not back by the end are lost.",
        std::max(left, 0.0), ends_by, queue.size(), running(),
        estimator.snapshot().total_backlog_seconds, queue.size() - fitting);
}

}  // namespace tide::detail
