#pragma once
// tide::future<R>: the result of a submitted task. A future from the driver's submit is
// collected on rank 0; one from tide::submit inside a task (a nested task) is collected by the
// task that submitted it. share() turns it into a tide::shared_future<R>, which can be copied,
// read any number of times, and passed to several tasks as their input (see tide/graph.hpp).

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tide/detail/engine.hpp"
#include "tide/detail/nested.hpp"
#include "tide/error.hpp"

namespace tide {

template <class R>
class shared_future;

namespace detail {
// Reaches the task behind a future, for passing it as another task's input.
struct input_access;

// A task's result bytes as the R its future (or map) expects.
template <class R>
R read_result(std::span<const std::byte> result, task_id id) {
    if constexpr (!std::is_void_v<R>) {
        try {
            return read_value<R>(result);
        } catch (const decode_failure&) {
            throw protocol_error("tide: the result of task " + std::to_string(id) +
                                 " does not decode as the type the future expects");
        }
    }
}
}  // namespace detail

template <class R>
class future {
public:
    future() = default;
    future(std::shared_ptr<detail::engine> eng, detail::task_id id)
        : engine_(std::move(eng)), id_(id) {}
    // Adopts one reference to a nested task.
    explicit future(detail::nested_result<R>* nested) : nested_(nested) {}
    future(future&& other) noexcept
        : engine_(std::move(other.engine_)),
          id_(other.id_),
          nested_(std::exchange(other.nested_, nullptr)) {}
    future& operator=(future&& other) noexcept {
        if (this != &other) {
            reset();
            engine_ = std::move(other.engine_);
            id_ = other.id_;
            nested_ = std::exchange(other.nested_, nullptr);
        }
        return *this;
    }
    future(const future&) = delete;
    future& operator=(const future&) = delete;
    // Dropping a future does not cancel its task; its result is discarded when it arrives. For
    // a nested task, dropping waits for it (as std::async's future does), so a child does not
    // outlive the task that submitted it, unless that wait itself fails (the run is ending, or
    // the task stack is exhausted).
    ~future() { reset(); }

    // False for a default-constructed future, a moved-from one, and after get().
    bool valid() const noexcept { return engine_ != nullptr || nested_ != nullptr; }
    // True once the result (or the error) is here. Does not wait for the network; on a
    // single rank it runs at most one queued task, since rank 0 is then the only executor. For
    // a nested task it only looks, and runs nothing: wait with wait(), wait_for() or get().
    bool ready() const { return nested_ ? nested_->finished() : checked().ready(id_); }
    // Blocks (keeping the runtime going) until ready. Inside a task, the wait runs other tasks
    // meanwhile: the task's own children first.
    void wait() const { wait_until(std::chrono::steady_clock::time_point::max()); }
    // Blocks at most about `timeout` (plus the duration of a task started meanwhile); true if
    // the result is ready.
    template <class Rep, class Period>
    bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
        return wait_until(std::chrono::steady_clock::now() + timeout);
    }

    // Waits, then returns the result or throws tide::task_error. Call once: the future is
    // invalid afterwards, as with std::future.
    R get() {
        wait();
        if (nested_) {
            struct releaser {
                detail::nested_task* t;
                ~releaser() { t->release(); }
            } owned{std::exchange(nested_, nullptr)};
            return static_cast<detail::nested_result<R>*>(owned.t)->take();
        }
        const auto eng = std::move(engine_);
        return decode(eng->take(id_));
    }

    detail::task_id id() const noexcept { return id_; }

    // A copyable handle on the same result; this future is invalid afterwards.
    shared_future<R> share();

    // Submits fn with this future's result as its first argument (then `more`): the same as
    // submit(fn, std::move(*this), more...) where this future was made. This future is used
    // up. Defined in tide/graph.hpp.
    //   auto total = d.submit(load, path).then(sum);
    template <class R2, class... P, class... A>
    future<R2> then(R2 (*fn)(P...), A&&... more);

private:
    friend struct detail::input_access;
    friend class shared_future<R>;
    // The result, left in place for other readers (shared_future), once ready.
    R peek() const {
        if (nested_) return static_cast<detail::nested_result<R>*>(nested_)->peek();
        return decode(checked().peek(id_));
    }
    R decode(const detail::bytes& result) const { return detail::read_result<R>(result, id_); }
    bool wait_until(std::chrono::steady_clock::time_point deadline) const {
        if (nested_) return detail::wait_nested(*nested_, deadline);
        return checked().wait_until(id_, deadline);
    }
    std::shared_ptr<detail::engine> checked_engine() const {
        checked();
        return engine_;
    }
    detail::engine& checked() const {
        if (!engine_)
            throw error(
                "tide::future used without a task (default-constructed, moved from, "
                "or already collected with get())");
        return *engine_;
    }
    void reset() noexcept {
        if (engine_) std::exchange(engine_, nullptr)->release(id_);
        if (nested_) detail::drop_nested(std::exchange(nested_, nullptr));
    }
    // Shared so that a future kept past the end of its run finds a closed engine (and throws)
    // rather than freed memory.
    std::shared_ptr<detail::engine> engine_;
    detail::task_id id_ = 0;
    detail::nested_result<R>* nested_ = nullptr;  // set instead of engine_ for a nested task
};

// A copyable handle on a task's result: every copy may wait for it and read it, any number of
// times, and be passed as the input of any number of tasks. The task's result is kept (on rank
// 0 for the driver's tasks) until the last copy is gone.
//   auto a = d.submit(load, path).share();
//   auto x = d.submit(left, a), y = d.submit(right, a);
template <class R>
class shared_future {
public:
    shared_future() = default;

    bool valid() const noexcept { return state_ != nullptr; }
    bool ready() const { return checked().source.ready(); }
    void wait() const { checked().source.wait(); }
    template <class Rep, class Period>
    bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
        return checked().source.wait_for(timeout);
    }
    // Waits, then returns the result (a reference valid while any copy of this shared future
    // lives) or throws the task's tide::task_error, every time.
    std::add_lvalue_reference_t<const R> get() const requires(!std::is_void_v<R>) {
        fetch();
        return *state_->value;
    }
    void get() const requires std::is_void_v<R> { fetch(); }

    detail::task_id id() const { return checked().source.id(); }

private:
    friend class future<R>;
    friend struct detail::input_access;
    struct nothing {};
    struct state {
        future<R> source;  // keeps the task known (on rank 0, or its nested result) for all
        std::optional<std::conditional_t<std::is_void_v<R>, nothing, R>> value;
        std::exception_ptr error;
    };
    explicit shared_future(future<R>&& source) : state_(std::make_shared<state>()) {
        state_->source = std::move(source);
    }
    state& checked() const {
        if (!state_)
            throw error(
                "tide::shared_future used without a task (default-constructed or moved from)");
        return *state_;
    }
    void fetch() const {
        state& s = checked();
        if (!s.value && !s.error) {
            s.source.wait();
            try {
                if constexpr (std::is_void_v<R>) {
                    s.source.peek();
                    s.value.emplace();
                } else {
                    s.value.emplace(s.source.peek());
                }
            } catch (const task_error&) {
                s.error = std::current_exception();
            }
        }
        if (s.error) std::rethrow_exception(s.error);
    }
    std::shared_ptr<state> state_;
};

template <class R>
shared_future<R> future<R>::share() {
    if (!valid())
        throw error("tide::future::share() on a future without a task (moved from, or collected)");
    return shared_future<R>(std::move(*this));
}

// Waits until every future in the group is ready (failed ones included).
template <class R>
void wait_all(std::span<future<R>> futures) {
    for (auto& f : futures)
        if (f.valid()) f.wait();
}
template <class R>
void wait_all(std::vector<future<R>>& futures) {
    wait_all(std::span<future<R>>(futures));
}

// Collects every result in order (nothing for void tasks); throws the first task_error met
// after all tasks have finished.
template <class R>
auto get_all(std::vector<future<R>>& futures) {
    wait_all(futures);
    if constexpr (std::is_void_v<R>) {
        for (auto& f : futures) f.get();
    } else {
        std::vector<R> out;
        out.reserve(futures.size());
        for (auto& f : futures) out.push_back(f.get());
        return out;
    }
}

}  // namespace tide
