// The job's end on rank 0: a batch job has a wall time limit, after which the batch system
// kills it. Late in the job, a worker that joined the pool (spawned or woken) when a task could
// no longer finish before the end does not start that task, the policy grows the pool only for
// work that can still finish, and a warning says when the end is near and what is undone.

#include <algorithm>
#include <cmath>
#include <limits>

#include "platform/log.hpp"
#include "rank0/engine_state.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

double engine_state::seconds_left() const {
    if (!job.ends_at) return std::numeric_limits<double>::infinity();
    const double left = std::chrono::duration<double>(*job.ends_at - clock::now()).count();
    return left > 0 ? left : std::numeric_limits<double>::infinity();
}

bool engine_state::take_from_queue(std::size_t count, clock::time_point joined, bool alone_ok,
                                   std::vector<sched::task_id>& out) {
    // The time the worker had when it joined: a task longer than that could not finish on it
    // from the moment it joined.
    const double window = std::isfinite(seconds_left())
                              ? std::chrono::duration<double>(*job.ends_at - joined).count()
                              : std::numeric_limits<double>::infinity();
    return queue.take(count, window, alone_ok, tasks, estimator, out);
}

sched::load_estimator::queued_work engine_state::work_for_new_workers() const {
    // A spawned worker joins only after a spawn's latency (a woken one sooner: the margin is
    // small either way).
    return estimator.central_fitting(seconds_left() - median(counters.spawn_seconds));
}

void engine_state::warn_near_end() {
    if (!job.ends_at || end_warned) return;
    const double left = std::chrono::duration<double>(*job.ends_at - clock::now()).count();
    if (left > end_warning_seconds) return;
    end_warned = true;
    if (journal) journal->sync_soon();  // what is done so far survives the end
    const std::size_t undone = queue.tasks() + running();
    if (undone == 0) {
        log().warn("the job ends in {:.0f} s ({}); no task is outstanding", std::max(left, 0.0),
                   job.end_source);
        return;
    }
    const std::size_t fitting = std::min(queue.tasks(), estimator.central_fitting(left).tasks);
    log().warn(
        "the job ends in {:.0f} s ({}): {} task(s) queued and {} running, about {:.0f} s of "
        "work; {} queued task(s) are not expected to finish in time, and workers that join "
        "now do not start them. Results not back by the end are lost.",
        std::max(left, 0.0), job.end_source, queue.tasks(), running(),
        estimator.snapshot().total_backlog_seconds, queue.tasks() - fitting);
}

}  // namespace tide::detail
