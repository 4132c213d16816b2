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
    out.clear();
    // The time the worker had when it joined: a task longer than that could not finish on it
    // from the moment it joined. Choosy only when some queued task is that long.
    const double window = std::isfinite(seconds_left())
                              ? std::chrono::duration<double>(*job.ends_at - joined).count()
                              : std::numeric_limits<double>::infinity();
    const bool choosy = std::isfinite(window) && window < estimator.longest_queued_mean();
    // Nothing to scan when the estimator knows that nothing fits; else one pass at most.
    if (choosy && estimator.central_fitting(window).tasks == 0) return true;
    passed_over.clear();
    while (out.size() < count && !queue.empty()) {
        const auto id = queue.front();
        // The common case looks at no record: no end near, no task lost before.
        const sched::task_record* rec = choosy || suspects_queued > 0 ? tasks.find(id) : nullptr;
        if (choosy && !estimator.fits(rec->name_hash, window)) {
            passed_over.push_back(id);
            queue.pop_front();
            continue;
        }
        if (rec && rec->losses > 0) {
            // A task lost with a worker before goes alone, to a worker with nothing else in
            // hand (see loss.cpp).
            if (out.empty() && alone_ok) {
                out.push_back(id);
                queue.pop_front();
                --suspects_queued;
            }
            break;
        }
        out.push_back(id);
        queue.pop_front();
    }
    for (std::size_t k = passed_over.size(); k-- > 0;) queue.push_front(passed_over[k]);
    return !passed_over.empty();
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
    const std::size_t undone = queue.size() + running();
    if (undone == 0) {
        log().warn("the job ends in {:.0f} s ({}); no task is outstanding", std::max(left, 0.0),
                   job.end_source);
        return;
    }
    const std::size_t fitting = std::min(queue.size(), estimator.central_fitting(left).tasks);
    log().warn(
        "the job ends in {:.0f} s ({}): {} task(s) queued and {} running, about {:.0f} s of "
        "work; {} queued task(s) are not expected to finish in time, and workers that join "
        "now do not start them. Results not back by the end are lost.",
        std::max(left, 0.0), job.end_source, queue.size(), running(),
        estimator.snapshot().total_backlog_seconds, queue.size() - fitting);
}

}  // namespace tide::detail
