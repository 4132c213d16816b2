#pragma once
// Tasks submitted from inside a task (nested tasks). Work first, as in Cilk: a child is a C++
// object on the submitting process's own work-stealing deque, its arguments unserialized, and
// it runs there, LIFO, unless an idle worker steals it. Only a stolen child pays for encoding:
// its arguments travel to the thief and its result travels back, through rank 0, as bytes.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tide/detail/registry.hpp"
#include "tide/error.hpp"
#include "tide/scheduler/backoff.hpp"
#include "tide/scheduler/ws_deque.hpp"

namespace tide::detail {

class task_context;

// One nested task, type-erased. Shared by its future and by whoever holds it for running (the
// deque, the runner, or the table of lent tasks while a thief runs it): an intrusive count,
// because a spawn must cost one allocation, not two.
class nested_task {
public:
    enum class status : std::uint8_t { pending, done, failed };

    explicit nested_task(const task_entry& e) : entry_(e) {}
    virtual ~nested_task() = default;
    nested_task(const nested_task&) = delete;
    nested_task& operator=(const nested_task&) = delete;

    const task_entry& entry() const { return entry_; }
    // The rank-0 id of the task that submitted it, or of its nearest ancestor rank 0 knows (0:
    // none): a thief's trace links the task to it.
    std::uint64_t parent() const { return parent_; }
    void set_parent(std::uint64_t id) { parent_ = id; }
    bool finished() const { return status_.load(std::memory_order_acquire) != status::pending; }
    void add_ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Runs the function here and now; `context` names this process in an error.
    void run_here(const task_context& context);
    // The arguments in wire form, for a thief.
    virtual void encode_arguments(bytes& out) const = 0;
    // How a stolen run ended, as it came back: the encoded value (a value that does not
    // decode becomes a protocol task_error naming `rank` and `host`), or the error.
    void deliver_value(std::span<const std::byte> payload, int rank, const std::string& host);
    void deliver_error(std::exception_ptr error);

protected:
    virtual void invoke() = 0;                                           // stores the value
    virtual void decode_result(std::span<const std::byte> payload) = 0;  // stores the value
    void rethrow_if_failed() const {
        if (status_.load(std::memory_order_acquire) == status::failed)
            std::rethrow_exception(error_);
    }

private:
    void finish(status s) { status_.store(s, std::memory_order_release); }
    const task_entry& entry_;
    std::uint64_t parent_ = 0;
    std::atomic<int> refs_{2};  // the future and the deque
    std::atomic<status> status_{status::pending};
    std::exception_ptr error_;
};

template <class R>
class nested_result : public nested_task {
public:
    using nested_task::nested_task;
    // The value, or the task's error thrown; once.
    R take() {
        rethrow_if_failed();
        if constexpr (!std::is_void_v<R>) return std::move(*value_);
    }

protected:
    void decode_result(std::span<const std::byte> payload) override {
        if constexpr (!std::is_void_v<R>) value_.emplace(read_value<R>(payload));
    }
    template <class F>
    void store(F&& call) {
        if constexpr (std::is_void_v<R>) {
            call();
        } else {
            value_.emplace(call());
        }
    }

private:
    struct nothing {};
    std::optional<std::conditional_t<std::is_void_v<R>, nothing, R>> value_;
};

template <class R, class... P>
class nested_call final : public nested_result<R> {
public:
    template <class... A>
    nested_call(const task_entry& e, R (*fn)(P...), A&&... args)
        : nested_result<R>(e), fn_(fn), args_(std::forward<A>(args)...) {}

    void encode_arguments(bytes& out) const override { append_values(out, args_); }

private:
    void invoke() override {
        this->store([&]() -> R { return std::apply(fn_, std::move(args_)); });
    }
    R (*fn_)(P...);
    std::tuple<std::decay_t<P>...> args_;
};

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
    template <class F>
    clock::time_point timed_frame(std::uint64_t name, F&& body,
                                  clock::time_point start = clock::time_point{});

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

private:
    void record(std::uint64_t name, double seconds);
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
                                                          clock::time_point start) {
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
    record(name, elapsed - child_seconds_);
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

// Waits for a nested task whose future is being dropped (its result and error are discarded),
// then lets go of it. Never throws: if the run is ending, it just lets go.
void drop_nested(nested_task* t) noexcept;

// Waits on a nested task from the thread that must be running tasks.
bool wait_nested(nested_task& t, std::chrono::steady_clock::time_point deadline);

}  // namespace tide::detail
