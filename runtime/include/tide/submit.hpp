#pragma once
// tide::submit inside a task: a child task (nested task). It goes on this worker's own deque,
// unserialized, and normally runs right here when the parent waits for it; an idle worker may
// steal it, and then its arguments and result travel as bytes. The future is collected (get,
// wait) by the submitting task only.
//
//   long fib(int n) {
//       if (n < 20) return fib_serial(n);
//       auto a = tide::submit(fib, n - 1);
//       auto b = tide::submit(fib, n - 2);
//       return a.get() + b.get();
//   }
//   TIDE_TASK(fib);

#include <utility>

#include "tide/detail/call.hpp"
#include "tide/detail/nested.hpp"
#include "tide/future.hpp"
#include "tide/graph.hpp"

namespace tide {

template <class R, class... P, class... A>
future<R> submit(R (*fn)(P...), A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "wrong number of arguments for this task");
    const auto& entry = detail::registered_entry(fn);
    if constexpr (detail::has_inputs<A...>) {
        // Futures among the arguments (tide/graph.hpp): it waits for them, off the deque.
        return detail::submit_nested(entry, fn, nullptr, std::forward<A>(args)...);
    } else {
        auto* task = new detail::nested_call<R, P...>(
            entry, fn, detail::as_parameter<P>(std::forward<A>(args))...);
        detail::spawn_nested(task);
        return future<R>(task);
    }
}

// A child task that starts only once the tasks in `order` have finished (tide::after).
template <class R, class... P, class... A>
future<R> submit(const after_t& order, R (*fn)(P...), A&&... args) {
    return detail::submit_nested(detail::registered_entry(fn), fn, &order,
                                 std::forward<A>(args)...);
}

}  // namespace tide
