#pragma once
// The thread that runs tasks in a process (a worker's task thread, or rank 0 on a single rank):
// its deque of nested tasks, how a waiting task helps, and the statistics of what it ran.
// Private to the runtime: user code reaches it only through spawn_nested and wait_nested.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "tide/detail/nested.hpp"
#include "tide/scheduler/backoff.hpp"
#include "tide/scheduler/ws_deque.hpp"

namespace tide::detail {

// The thread that runs tasks in a process: its deque of nested tasks, and how it waits.
class task_context {
public:
    using clock = std::chrono::steady_clock;

    // The context of the calling thread while it runs tasks; nullptr elsewhere.
    static task_context* current() noexcept;

    void spawn(nested_task* t) {
        t->set_parent(current_task_);
        deque_.push(t);
    }
    // Runs other work (own children first) until `t` has finished or the deadline passes.
    bool wait(nested_task& t, clock::time_point deadline);
    // Holds a task with inputs until they have all finished (see detail::spawn_after).
    void spawn_after(nested_task* t, std::span<nested_task* const> inputs);
    // The last input of a held task has finished: onto the deque, from this context's thread;
    // from another (the keeper thread took a thief's result), through a list that the task
    // thread collects before it next takes work.
    void make_ready(nested_task* t);
    // Runs a nested task as a frame on this thread (timed, marked, reference released);
    // returns when it ended.
    clock::time_point run_nested(nested_task* t);
    // Runs what is left on the deque (children whose futures were dropped unwaited).
    void drain();

    int rank() const { return rank_; }
    const std::string& host() const { return host_; }

protected:
    task_context(int rank, std::string host);
    virtual ~task_context();

    // Work besides this thread's own deque, for a task that waits: take messages, run a task
    // received from rank 0 when `may_run_tasks`. True if anything happened. Throws to unwind
    // the waiting tasks when the run is ending.
    virtual bool help(bool may_run_tasks) = 0;
    // Called after each task a wait ran, with its end time: the place to poll now and then.
    virtual void after_task(clock::time_point end) = 0;
    // True once the run is ending: waiting tasks then fail at once instead of running on.
    virtual bool ending() const { return false; }
    // When the result of `t`, lent to a thief, should come back, if that can be told: a wait
    // polls around it instead of sleeping through it.
    virtual std::optional<sched::expected_result> expected_result_of(const nested_task&) {
        return std::nullopt;
    }

    // Runs `body` as a task frame named `name`: its children sit above `mark` in the deque, and
    // its duration, less that of tasks run inside its waits, is added to the statistics.
    // `start` may be given when the caller already knows it (the end of the task before).
    // `tasks`: the body runs that many tasks one after another (of a range), each counted with
    // an equal share of the time.
    template <class F>
    clock::time_point timed_frame(std::uint64_t name, F&& body,
                                  clock::time_point start = clock::time_point{},
                                  std::uint64_t tasks = 1);

    // Whether a waiting task may start unrelated work on top of itself: only while less than
    // half of this thread's stack is in use, so that helping cannot overflow it.
    bool stack_has_room() const;
    std::ptrdiff_t stack_left() const;

    struct duration_sum {
        std::uint64_t name;
        std::uint64_t count;
        double sum;
        double sum_of_squares;
    };
    // The rank-0 id of the nearest task rank 0 knows among the ancestors of the frame running
    // on this thread (0: none): the parent recorded for the children submitted now.
    std::uint64_t current_task_ = 0;
    std::vector<duration_sum> durations_;  // since the last report; this thread only
    double busy_seconds_ = 0;              // likewise
    std::uint64_t executed_ = 0;           // likewise
    sched::ws_deque<nested_task*> deque_;
    // Moves tasks made ready by another thread onto the deque; the owner thread calls it
    // before it takes work.
    void collect_ready();

private:
    std::unordered_set<nested_task*> held_;  // waiting for inputs; this context's thread only
    std::mutex ready_mu_;
    std::vector<nested_task*> ready_;  // made ready by another thread, not yet on the deque
    std::atomic<bool> any_ready_{false};
    bool closing_ = false;  // being destroyed: waits fail at once
    void record(std::uint64_t name, double seconds, std::uint64_t tasks);
    int rank_;
    std::string host_;
    std::int64_t frame_mark_ = 0;
    double child_seconds_ = 0;  // time inside nested frames of the current frame
    int depth_ = 0;
    const char* stack_low_ = nullptr;
    std::size_t stack_size_ = 0;
};

template <class F>
task_context::clock::time_point task_context::timed_frame(std::uint64_t name, F&& body,
                                                          clock::time_point start,
                                                          std::uint64_t tasks) {
    const auto saved_mark = frame_mark_;
    const double saved_child = child_seconds_;
    frame_mark_ = deque_.bottom();
    child_seconds_ = 0;
    ++depth_;
    if (start == clock::time_point{}) start = clock::now();
    body();
    const auto end = clock::now();
    --depth_;
    const double elapsed = std::chrono::duration<double>(end - start).count();
    record(name, elapsed - child_seconds_, tasks);
    child_seconds_ = saved_child + elapsed;
    frame_mark_ = saved_mark;
    return end;
}

// Makes `context` the calling thread's task context for the scope's lifetime.
class context_scope {
public:
    explicit context_scope(task_context& context);
    ~context_scope();
    context_scope(const context_scope&) = delete;
    context_scope& operator=(const context_scope&) = delete;

private:
    task_context* previous_;
};

}  // namespace tide::detail
