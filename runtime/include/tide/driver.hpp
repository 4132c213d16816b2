#pragma once
// tide::driver: what the code on rank 0 uses to submit tasks and collect results.

#include <chrono>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tide/detail/engine.hpp"
#include "tide/future.hpp"

namespace tide {

namespace detail {

template <class T>
struct is_tuple : std::false_type {};
template <class... T>
struct is_tuple<std::tuple<T...>> : std::true_type {};

// Passes an argument through untouched when it already has the parameter's type, converts it
// otherwise, so that encoding never copies a large argument just to serialize it.
template <class P, class A>
decltype(auto) as_parameter(A&& a) {
    using param = std::decay_t<P>;
    static_assert(std::is_convertible_v<A&&, param>,
                  "a task argument does not convert implicitly to the task's parameter type");
    if constexpr (std::is_same_v<std::decay_t<A>, param>) {
        return std::forward<A>(a);
    } else {
        param converted = std::forward<A>(a);  // copy-initialisation: implicit conversions only
        return converted;
    }
}

// What submit_named sends for an argument: its decayed type, except that C strings travel as
// std::string (a pointer cannot leave the process).
template <class A>
using named_argument_t = std::conditional_t<std::is_same_v<std::decay_t<A>, const char*> ||
                                                std::is_same_v<std::decay_t<A>, char*>,
                                            std::string, std::decay_t<A>>;

// Encodes one call's arguments as the tuple of the function's decayed parameter types, so the
// worker reads back exactly what the function takes. (A tuple of references encodes exactly as
// the tuple of values it refers to.)
template <class... P, class... A>
bytes encode_call(A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "wrong number of arguments for this task");
    bytes out;
    append_values(out, std::forward_as_tuple(as_parameter<P>(std::forward<A>(args))...));
    return out;
}

[[noreturn]] void throw_arguments_too_large(const task_entry& entry);

// encode_call for `entry`, turning an oversized payload into a tide::error naming the task.
template <class... P, class... A>
bytes encode_for(const task_entry& entry, A&&... args) {
    try {
        return encode_call<P...>(std::forward<A>(args)...);
    } catch (const payload_too_large&) {
        throw_arguments_too_large(entry);
    }
}

// One element of a bulk submission: a tuple is unpacked into the parameters, anything else is
// the single argument.
template <class... P, class E>
bytes encode_element(const task_entry& entry, const E& element) {
    if constexpr (is_tuple<std::decay_t<E>>::value && sizeof...(P) != 1) {
        return std::apply([&](const auto&... a) { return encode_for<P...>(entry, a...); }, element);
    } else {
        return encode_for<P...>(entry, element);
    }
}

template <class R, class... P>
const task_entry& registered_entry(R (*fn)(P...)) {
    const task_entry* e = registry::instance().by_function(reinterpret_cast<erased_fn>(fn));
    if (!e)
        throw error(
            "tide: this function was not registered as a task; add TIDE_TASK(name) "
            "after its definition");
    return *e;
}

}  // namespace detail

class driver {
public:
    driver(std::shared_ptr<detail::engine> eng, std::vector<std::string> args)
        : engine_(std::move(eng)), args_(std::move(args)) {}

    // Runs fn(args...) on a worker. Arguments convert to the parameter types here, on rank 0.
    //   auto f = d.submit(square, 7);   int r = f.get();
    template <class R, class... P, class... A>
    future<R> submit(R (*fn)(P...), A&&... args) {
        const auto& entry = detail::registered_entry(fn);
        return {engine_,
                engine_->submit(entry, detail::encode_for<P...>(entry, std::forward<A>(args)...))};
    }

    // Runs the task registered under `name`, for code that knows tasks only by name. The
    // argument types must be exactly the parameter types (after decay) and R the result type;
    // otherwise get() throws task_error (bad_arguments or unknown_task).
    //   auto f = d.submit_named<int>("square", 7);
    template <class R, class... A>
    future<R> submit_named(std::string_view name, A&&... values) {
        const auto& sig = detail::signature_of<R, detail::named_argument_t<A>...>();
        const detail::task_entry* entry = detail::registry::instance().by_name(name);
        if (!entry)
            return {engine_, engine_->submit_failed(std::string(name),
                                                    "no task is registered under this name", true)};
        if (entry->sig->hash != sig.hash)
            return {engine_, engine_->submit_failed(std::string(name),
                                                    "the task is " + entry->sig->text +
                                                        " but was called as " + sig.text,
                                                    false)};
        return {engine_, engine_->submit(*entry, detail::encode_for<detail::named_argument_t<A>...>(
                                                     *entry, std::forward<A>(values)...))};
    }

    // Submits fn once per element of `range` in one step and returns the futures in order. An
    // element that is a std::tuple is unpacked into the parameters.
    //   auto fs = d.submit_all(square, std::vector{1, 2, 3});
    template <class R, class... P, std::ranges::input_range Range>
    std::vector<future<R>> submit_all(R (*fn)(P...), const Range& range) {
        const auto& entry = detail::registered_entry(fn);
        std::vector<detail::bytes> encoded;
        if constexpr (std::ranges::sized_range<Range>) encoded.reserve(std::ranges::size(range));
        for (const auto& element : range)
            encoded.push_back(detail::encode_element<P...>(entry, element));
        auto ids = engine_->submit_many(entry, std::move(encoded));
        std::vector<future<R>> futures;
        futures.reserve(ids.size());
        for (auto id : ids) futures.emplace_back(engine_, id);
        return futures;
    }

    // Like submit_all, then waits and returns the results in order (nothing for a void task);
    // throws the first task_error once all tasks have finished.
    //   std::vector<int> squares = d.map(square, std::vector{1, 2, 3});
    template <class R, class... P, std::ranges::input_range Range>
    auto map(R (*fn)(P...), const Range& range) {
        auto futures = submit_all(fn, range);
        return get_all(futures);
    }

    // What rank 0 estimates about the load right now, and what stealing has done so far.
    load_snapshot load() const { return engine_->load(); }

    // What the run has done so far: tasks by outcome, makespan and throughput, per worker its
    // tasks and busy fraction, steals, scaling, bursts, losses (the summary printed at the end).
    run_stats stats() const { return engine_->stats(); }

    // Worker ranks in the pool now, active or parked (not those being spawned, retired or gone;
    // 0 while rank 0 runs the tasks itself).
    int workers() const { return engine_->worker_count(); }

    // Time until the job's end: the Slurm job's time limit, or --tide-walltime from the
    // start; none when no limit is known. Past the end it is negative. A program can use it
    // to save what it has while there is time.
    std::optional<std::chrono::duration<double>> time_left() const {
        if (const auto s = engine_->seconds_left()) return std::chrono::duration<double>(*s);
        return std::nullopt;
    }

    // The program's arguments with every --tide-* flag removed (args()[0] is the program).
    const std::vector<std::string>& args() const { return args_; }

private:
    std::shared_ptr<detail::engine> engine_;
    std::vector<std::string> args_;
};

}  // namespace tide
