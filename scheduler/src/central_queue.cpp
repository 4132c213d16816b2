#include "tide/scheduler/central_queue.hpp"

#include <cmath>

namespace tide::sched {

void central_queue::put_back(std::span<const task_id> ids, const task_table& tasks) {
    for (std::size_t k = ids.size(); k-- > 0;) {
        ids_.push_front(ids[k]);
        const task_record& rec = *tasks.find(ids[k]);
        tasks_ += tasks_in(rec);
        if (rec.losses > 0) ++suspects_;
    }
}

bool central_queue::take(std::size_t count, double window, bool alone_ok, const task_table& tasks,
                         const load_estimator& estimator, std::vector<task_id>& out) {
    out.clear();
    // Choosy only when some queued task is longer than the window.
    const bool choosy = std::isfinite(window) && window < estimator.longest_queued_mean();
    // Nothing to scan when the estimator knows that nothing fits; else one pass at most.
    if (choosy && estimator.central_fitting(window).tasks == 0) return true;
    passed_over_.clear();
    std::size_t taken = 0;
    while (taken < count && !ids_.empty()) {
        const auto id = ids_.front();
        const task_record* rec = tasks.find(id);
        if (choosy && !estimator.fits(rec->name_hash, window)) {
            passed_over_.push_back(id);
            ids_.pop_front();
            continue;
        }
        if (rec->losses > 0) {
            if (out.empty() && alone_ok) {
                out.push_back(id);
                ids_.pop_front();
                --suspects_;
                --tasks_;  // a suspect is a single task (a lost range is split)
            }
            break;
        }
        const auto n = tasks_in(*rec);
        out.push_back(id);
        ids_.pop_front();
        tasks_ -= n;
        taken += n;
    }
    for (std::size_t k = passed_over_.size(); k-- > 0;) ids_.push_front(passed_over_[k]);
    return !passed_over_.empty();
}

std::optional<task_id> central_queue::take_suspect(const task_table& tasks) {
    if (ids_.empty() || tasks.find(ids_.front())->losses == 0) return std::nullopt;
    const auto id = ids_.front();
    ids_.pop_front();
    --suspects_;
    --tasks_;
    return id;
}

}  // namespace tide::sched
