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

namespace tide::detail {

class task_context;

// One nested task, type-erased. Shared by its future and by whoever holds it for running (the
// deque, the runner, or the table of lent tasks while a thief runs it): an intrusive count,
// because a spawn must cost one allocation, not two.
class nested_task {
public:
    enum class status : std::uint8_t { pending, done, failed };

    explicit nested_task(const task_entry& e) : entry_(e) {}
    virtual ~nested_task();
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

    // --- dataflow: a task submitted with inputs (futures among its arguments) ---------------
    // Registers `dependent` to be told when this task finishes: at once if it has.
    void add_dependent(nested_task* dependent);
    // One of this task's inputs has finished: after the last, it goes on the deque of the
    // context it was submitted in (spawn_after).
    void input_finished();

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
    friend class task_context;
    // Sets the status, then tells the tasks waiting for this one.
    void finish(status s);
    struct dependent_node {
        nested_task* task;
        dependent_node* next;
    };
    // The node that marks the list closed: the task has finished, dependents are told at once.
    static dependent_node* closed_list();
    const task_entry& entry_;
    std::uint64_t parent_ = 0;
    // Tasks waiting for this one; closed_list() once it has finished. Pushed by the submitting
    // thread, closed by whichever thread finishes the task (the keeper thread, for a result
    // that came back from a thief): a lock-free stack, closed by an exchange.
    std::atomic<dependent_node*> dependents_{nullptr};
    std::atomic<int> inputs_left_{0};  // inputs not finished yet (+1 while being registered)
    task_context* home_ = nullptr;     // where it goes when ready
    std::atomic<int> refs_{2};         // the future and the deque
    std::atomic<status> status_{status::pending};
    std::exception_ptr error_;
};

template <class R>
class nested_result : public nested_task {
public:
    using result_type = R;
    using nested_task::nested_task;
    // The value, or the task's error thrown; once.
    R take() {
        rethrow_if_failed();
        if constexpr (!std::is_void_v<R>) return std::move(*value_);
    }
    // A copy of the value, or the task's error thrown; any number of times.
    R peek() const {
        rethrow_if_failed();
        if constexpr (!std::is_void_v<R>) return *value_;
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

// Puts a new nested task on the calling thread's deque; outside a task (no task context on
// this thread) it frees the task and throws tide::error.
void spawn_nested(nested_task* t);

// Puts a new nested task that takes the results of `inputs` (or comes after them) on the
// calling thread's deque once they have all finished; until then it is held by the task
// context, off the deque, so that no thief can take it and no wait runs it early. Outside a
// task it frees the task and throws tide::error.
void spawn_after(nested_task* t, std::span<nested_task* const> inputs);

// Waits for a nested task whose future is being dropped (its result and error are discarded),
// then lets go of it. Never throws: if the run is ending, it just lets go.
void drop_nested(nested_task* t) noexcept;

// Waits on a nested task from the thread that must be running tasks.
bool wait_nested(nested_task& t, std::chrono::steady_clock::time_point deadline);

}  // namespace tide::detail
