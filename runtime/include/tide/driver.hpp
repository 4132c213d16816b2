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

#include "tide/detail/bulk.hpp"
#include "tide/detail/call.hpp"
#include "tide/detail/engine.hpp"
#include "tide/future.hpp"
#include "tide/graph.hpp"

namespace tide {

class driver {
public:
    driver(std::shared_ptr<detail::engine> eng, std::vector<std::string> args)
        : engine_(std::move(eng)), args_(std::move(args)) {}

    // Runs fn(args...) on a worker. Arguments convert to the parameter types here, on rank 0.
    //   auto f = d.submit(square, 7);   int r = f.get();
    // A future<T> (moved in) or shared_future<T> for a T parameter, or a vector of
    // shared_future<T> for a std::vector<T> one, is an input: the task starts once those have
    // finished, with their results (see tide/graph.hpp).
    //   auto b = d.submit(smooth, std::move(a));
    template <class R, class... P, class... A>
    future<R> submit(R (*fn)(P...), A&&... args) {
        const auto& entry = detail::registered_entry(fn);
        if constexpr (detail::has_inputs<A...>) {
            return detail::submit_on_rank0<R, P...>(engine_, entry, nullptr,
                                                    std::forward<A>(args)...);
        } else {
            return {engine_, engine_->submit(
                                 entry, detail::encode_for<P...>(entry, std::forward<A>(args)...))};
        }
    }

    // Runs fn once the tasks in `order` have finished, without taking their results.
    //   d.submit(tide::after(write_a, write_b), pack, dir);
    template <class R, class... P, class... A>
    future<R> submit(const after_t& order, R (*fn)(P...), A&&... args) {
        return detail::submit_on_rank0<R, P...>(engine_, detail::registered_entry(fn), &order,
                                                std::forward<A>(args)...);
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
    // element that is a std::tuple is unpacked into the parameters. The tasks travel in ranges
    // (many tasks in one record and one message, see README "Bulk submissions").
    //   auto fs = d.submit_all(square, std::vector{1, 2, 3});
    template <class R, class... P, std::ranges::input_range Range>
    std::vector<future<R>> submit_all(R (*fn)(P...), const Range& range) {
        const auto ids = detail::submit_bulk<P...>(*engine_, detail::registered_entry(fn), range);
        std::vector<future<R>> futures;
        futures.reserve(ids.count);
        for (std::size_t i = 0; i < ids.count; ++i) futures.emplace_back(engine_, ids.at(i));
        return futures;
    }

    // Like submit_all, then waits and returns the results in order (nothing for a void task);
    // throws the first task_error once all tasks have finished. Makes no future: rank 0 keeps
    // nothing per task but its arguments and result, packed.
    //   std::vector<int> squares = d.map(square, std::vector{1, 2, 3});
    template <class R, class... P, std::ranges::input_range Range>
    auto map(R (*fn)(P...), const Range& range) {
        const auto ids = detail::submit_bulk<P...>(*engine_, detail::registered_entry(fn), range);
        if constexpr (std::is_void_v<R>) {
            engine_->take_bulk(ids, [](std::size_t, std::span<const std::byte>) {});
        } else {
            std::vector<R> out;
            out.reserve(ids.count);
            engine_->take_bulk(ids, [&](std::size_t i, std::span<const std::byte> result) {
                out.push_back(detail::read_result<R>(result, ids.at(i)));
            });
            return out;
        }
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
