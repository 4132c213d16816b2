#include "tide/scheduler/central_queue.hpp"

#include <cmath>

namespace tide::sched {

void central_queue::put_back(std::span<const task_id> ids, const task_table& tasks) {
    for (std::size_t k = ids.size(); k-- > 0;) {
        const task_record& rec = *tasks.find(ids[k]);
        queued_.push_front({ids[k], tasks_in(rec)});
        tasks_ += queued_.front().tasks;
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
    while (taken < count && !queued_.empty()) {
        const entry head = queued_.front();
        // The common case looks at no record: no end near, no suspect queued.
        const task_record* rec = choosy || suspects_ > 0 ? tasks.find(head.id) : nullptr;
        if (choosy && !estimator.fits(rec->name_hash, window)) {
            passed_over_.push_back(head);
            queued_.pop_front();
            continue;
        }
        if (rec && rec->losses > 0) {
            if (out.empty() && alone_ok) {
                out.push_back(head.id);
                queued_.pop_front();
                --suspects_;
                tasks_ -= head.tasks;
            }
            break;
        }
        out.push_back(head.id);
        queued_.pop_front();
        tasks_ -= head.tasks;
        taken += head.tasks;
    }
    for (std::size_t k = passed_over_.size(); k-- > 0;) queued_.push_front(passed_over_[k]);
    return !passed_over_.empty();
}

std::optional<task_id> central_queue::take_suspect(const task_table& tasks) {
    if (queued_.empty() || tasks.find(queued_.front().id)->losses == 0) return std::nullopt;
    const entry head = queued_.front();
    queued_.pop_front();
    --suspects_;
    tasks_ -= head.tasks;
    return head.id;
}

}  // namespace tide::sched
