#pragma once
// Rank 0's central queue: task ids (a record each: one task, or a range of a bulk submission) in
// submission order, tasks put back (from a lost worker, a
// lost batch, a steal whose thief was fed meanwhile) at its head. Two rules decide what a
// worker may take from the head:
// - Late in a job, a worker that joined the pool when a task could no longer finish before the
//   end (its mean duration is longer than the time there was then) passes that task over: it
//   stays queued, in its place, for a worker that was there before, or until the end has
//   passed. A worker brought in late must not start work that the job's end will cut off.
// - A task lost with a worker before (a suspect: it may have killed it) goes only to a worker
//   with nothing else in hand, and alone, so that if it kills again it takes nothing with it.

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "tide/scheduler/load_estimator.hpp"
#include "tide/scheduler/task_table.hpp"

namespace tide::sched {

class central_queue {
public:
    bool empty() const { return queued_.empty(); }
    // Records queued.
    std::size_t size() const { return queued_.size(); }
    // Tasks queued: a range counts its tasks.
    std::size_t tasks() const { return tasks_; }
    // The tasks of the record at the head (the queue must not be empty).
    std::size_t front_tasks() const { return queued_.front().tasks; }

    // A new record of `tasks` tasks, at the tail.
    void push(task_id id, std::size_t tasks) {
        queued_.push_back({id, tasks});
        tasks_ += tasks;
    }
    // Tasks back at the head, in the order given (their losses are read from `tasks`).
    void put_back(std::span<const task_id> ids, const task_table& tasks);

    // Takes records holding up to `count` tasks from the head into `out` (a range larger than
    // `count` goes whole when it comes first), for a worker that had `window`
    // seconds before the job's end when it joined (infinite: no end known, or it has passed),
    // and that holds nothing (`alone_ok`: it may take a suspect). Returns whether any task was
    // passed over for the late-job rule.
    bool take(std::size_t count, double window, bool alone_ok, const task_table& tasks,
              const load_estimator& estimator, std::vector<task_id>& out);
    // The task at the head if it is a suspect (which nobody may be left to run).
    std::optional<task_id> take_suspect(const task_table& tasks);

private:
    // A record and its tasks, kept here so that taking needs no look at the record in the
    // common case (no end near, no suspect queued).
    struct entry {
        task_id id;
        std::size_t tasks;
    };
    std::deque<entry> queued_;
    std::size_t tasks_ = 0;           // in queued_
    std::size_t suspects_ = 0;        // tasks lost before, in the queue
    std::vector<entry> passed_over_;  // scratch of take()
};

}  // namespace tide::sched
