#pragma once
// Task graphs: futures as task arguments. A tide::future<T> (moved in) or a
// tide::shared_future<T>, passed where a task takes a T (or const T&), is a dependency edge; a
// std::vector<tide::shared_future<T>> passed for a std::vector<T> is a list of them. The task
// starts when its last input has finished, with the inputs' results as those arguments; if an
// input fails, the task does not run and its get() throws that input's task_error. Readiness is
// counted where the task was submitted: on rank 0 for the driver's tasks, on the submitting
// worker for nested tasks, so a step of a graph never waits for the driver.
//
//   auto a = d.submit(load, "a.dat").share();
//   auto b = d.submit(smooth, a), c = d.submit(edges, a);    // both start when `a` is done
//   auto total = d.submit(combine, std::move(b), std::move(c));
//   auto both = tide::when_all(d.submit(f, 1), d.submit(g, 2)); // future<std::tuple<int, int>>
//   auto later = d.submit(tide::after(total), cleanup, dir);  // order only, no value passed

#include <cstdint>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tide/detail/call.hpp"
#include "tide/detail/engine.hpp"
#include "tide/detail/nested.hpp"
#include "tide/future.hpp"

namespace tide {

namespace detail {

// What kind of argument an argument is: a plain value (0), one input (1: a future or shared
// future), or a list of inputs (2: a vector of shared futures).
template <class A>
struct input_traits {
    static constexpr int kind = 0;
};
template <class T>
struct input_traits<future<T>> {
    static constexpr int kind = 1;
    static constexpr bool shared = false;
    using value = T;
};
template <class T>
struct input_traits<shared_future<T>> {
    static constexpr int kind = 1;
    static constexpr bool shared = true;
    using value = T;
};
template <class T, class Alloc>
struct input_traits<std::vector<shared_future<T>, Alloc>> {
    static constexpr int kind = 2;
    using value = T;
};
template <class A>
inline constexpr int input_kind = input_traits<std::remove_cvref_t<A>>::kind;
template <class... A>
inline constexpr bool has_inputs = ((input_kind<A> != 0) || ...);

// Checks, at compile time, that argument A may stand for parameter P.
template <class P, class A>
constexpr void check_input() {
    using traits = input_traits<std::remove_cvref_t<A>>;
    if constexpr (traits::kind == 1) {
        static_assert(std::is_same_v<typename traits::value, std::decay_t<P>>,
                      "a future passed as a task argument must hold the parameter's type: "
                      "future<T> or shared_future<T> for a T or const T& parameter");
        static_assert(traits::shared || !std::is_lvalue_reference_v<A>,
                      "a tide::future is used up as a task argument: pass it with std::move, "
                      "or share() it to pass it to several tasks");
    } else if constexpr (traits::kind == 2) {
        static_assert(std::is_same_v<std::vector<typename traits::value>, std::decay_t<P>>,
                      "a vector of shared futures stands for a std::vector<T> parameter of "
                      "the same T");
    }
}

[[noreturn]] inline void throw_input_without_task() {
    throw error(
        "tide: a future passed as a task's input has no task (moved from, or collected with "
        "get())");
}

// Reaches the task behind a future or a shared future.
struct input_access {
    template <class R>
    static const future<R>& source(const future<R>& f) {
        return f;
    }
    template <class R>
    static const future<R>& source(const shared_future<R>& f) {
        return f.checked().source;
    }
    // The rank-0 task behind an input of a task that `eng` (the driver's) runs.
    template <class F>
    static task_id on_rank0(const engine& eng, const F& f) {
        const auto& fut = source(f);
        if (fut.nested_)
            throw error(
                "tide: a future of a nested task (tide::submit inside a task) cannot be the "
                "input of a task the driver submits");
        if (!fut.engine_) throw_input_without_task();
        if (fut.engine_.get() != &eng)
            throw error("tide: a future passed as a task's input belongs to another run");
        return fut.id_;
    }
    // An input's result, left in place (it has finished).
    template <class F>
    static auto peek(const F& f) {
        return source(f).peek();
    }
    template <class F>
    static const std::shared_ptr<engine>& engine_of(const F& f) {
        return source(f).engine_;
    }
    // The nested task behind an input of a nested task.
    template <class F>
    static nested_task* nested(const F& f) {
        const auto& fut = source(f);
        if (fut.engine_)
            throw error(
                "tide: a future of a task the driver submitted cannot be the input of a nested "
                "task");
        if (!fut.nested_) throw_input_without_task();
        return fut.nested_;
    }
};

// Arguments with their inputs left out, and where each input's result goes.
struct graph_call {
    bytes literal;
    std::vector<task_input> inputs;
};

template <class P, class A>
void encode_argument(const engine& eng, graph_call& call, A&& a) {
    check_input<P, A>();
    if constexpr (input_kind<A> == 0) {
        append_values(call.literal, as_parameter<P>(std::forward<A>(a)));
    } else if constexpr (input_kind<A> == 1) {
        call.inputs.push_back({call.literal.size(), input_access::on_rank0(eng, a)});
    } else {
        // A vector encodes as its length, then its elements one after another.
        append_values(call.literal, static_cast<std::uint64_t>(a.size()));
        for (const auto& f : a)
            call.inputs.push_back({call.literal.size(), input_access::on_rank0(eng, f)});
    }
}

// A future moved in as an argument is used up once the task is submitted.
template <class A>
void use_up(A&& a) {
    if constexpr (input_kind<A> == 1 && std::is_rvalue_reference_v<A&&>) {
        if constexpr (!input_traits<std::remove_cvref_t<A>>::shared) {
            [[maybe_unused]] auto gone = std::move(a);
        }
    }
}

}  // namespace detail

// Tasks a task must come after without taking their results: the first argument of submit.
// Build it in the submit call itself: it refers to the tasks of the futures given.
//   d.submit(tide::after(write_a, write_b), pack, dir);
//   tide::submit(tide::after(step), report, n);      // inside a task
class after_t {
public:
    after_t(const after_t&) = delete;
    after_t& operator=(const after_t&) = delete;
    after_t(after_t&& other) noexcept
        : engine_(std::move(other.engine_)),
          rank0_(std::move(other.rank0_)),
          nested_(std::exchange(other.nested_, {})) {}
    after_t& operator=(after_t&&) = delete;
    ~after_t() {
        for (auto* t : nested_) t->release();
    }

    // The rank-0 tasks, for a task the driver submits to run after them.
    void add_to(const detail::engine& eng, detail::graph_call& call) const {
        if (!nested_.empty())
            throw error(
                "tide::after: futures of nested tasks cannot order a task the driver submits");
        if (engine_ && engine_.get() != &eng)
            throw error("tide::after: a future given belongs to another run");
        for (const auto id : rank0_) call.inputs.push_back({detail::task_input::order_only, id});
    }
    // The nested tasks, for a nested task to run after them.
    const std::vector<detail::nested_task*>& nested_inputs() const {
        if (engine_)
            throw error("tide::after: futures of the driver's tasks cannot order a nested task");
        return nested_;
    }

private:
    template <class... F>
    friend after_t after(const F&... fs);
    after_t() = default;
    template <class F>
    void add(const F& f) {
        if constexpr (detail::input_kind<F> == 2) {
            for (const auto& one : f) add(one);
        } else {
            static_assert(detail::input_kind<F> == 1,
                          "tide::after takes futures, shared futures, and vectors of shared "
                          "futures");
            if (const auto& eng = detail::input_access::engine_of(f)) {
                rank0_.push_back(detail::input_access::on_rank0(*eng, f));
                engine_ = eng;
            } else {
                auto* t = detail::input_access::nested(f);
                t->add_ref();
                nested_.push_back(t);
            }
        }
    }
    std::shared_ptr<detail::engine> engine_;
    std::vector<detail::task_id> rank0_;
    std::vector<detail::nested_task*> nested_;
};

// The tasks of these futures (not used up), as the ordering of the next submit.
template <class... F>
after_t after(const F&... fs) {
    after_t order;
    (order.add(fs), ...);
    return order;
}

namespace detail {

// The driver's submit of a task with inputs among its arguments, or an ordering, or both.
template <class R, class... P, class... A>
future<R> submit_on_rank0(const std::shared_ptr<engine>& eng, const task_entry& entry,
                          const after_t* order, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "wrong number of arguments for this task");
    graph_call call;
    try {
        (encode_argument<P>(*eng, call, std::forward<A>(args)), ...);
    } catch (const payload_too_large&) {
        throw_arguments_too_large(entry);
    }
    if (order) order->add_to(*eng, call);
    future<R> out(eng, eng->submit_after(entry, std::move(call.literal), std::move(call.inputs)));
    (use_up(std::forward<A>(args)), ...);
    return out;
}

// The slot a nested task keeps for one argument: the value, or the input it comes from.
template <class P, class A>
using slot_t = std::conditional_t<input_kind<A> == 0, std::decay_t<P>, std::remove_cvref_t<A>>;

// An argument's value left in place: what a thief is sent.
template <class S>
decltype(auto) read_slot(const S& s) {
    if constexpr (input_kind<S> == 0) {
        return (s);
    } else if constexpr (input_kind<S> == 1) {
        return input_access::peek(s);
    } else {
        std::vector<typename input_traits<S>::value> values;
        values.reserve(s.size());
        for (const auto& f : s) values.push_back(input_access::peek(f));
        return values;
    }
}
// An argument's value when the task runs (inputs have finished by then). A shared input is
// lent by reference; a future's value is moved out.
template <class S>
decltype(auto) take_slot(S& s) {
    if constexpr (input_kind<S> == 0) {
        return std::move(s);
    } else if constexpr (input_kind<S> == 1) {
        return s.get();
    } else {
        return read_slot(s);  // shared: copied either way
    }
}
// The nested tasks an argument waits for.
template <class S>
void inputs_of(const S& s, std::vector<nested_task*>& out) {
    if constexpr (input_kind<S> == 1) {
        out.push_back(input_access::nested(s));
    } else if constexpr (input_kind<S> == 2) {
        for (const auto& f : s) out.push_back(input_access::nested(f));
    }
}

template <class... S>
std::vector<nested_task*> inputs_of_slots(const std::tuple<S...>& slots) {
    std::vector<nested_task*> out;
    std::apply([&](const auto&... s) { (inputs_of(s, out), ...); }, slots);
    return out;
}

// A nested task some of whose arguments are inputs: it waits off the deque until they have
// all finished (see spawn_after).
template <class R, class... P>
class nested_graph_call;
template <class R, class... P, class... S>
class nested_graph_call<R(P...), S...> final : public nested_result<R> {
public:
    template <class... A>
    nested_graph_call(const task_entry& e, R (*fn)(P...), A&&... args)
        : nested_result<R>(e), fn_(fn), slots_(std::forward<A>(args)...) {}

    void encode_arguments(bytes& out) const override {
        std::apply(
            [&](const auto&... s) { append_values(out, std::forward_as_tuple(read_slot(s)...)); },
            slots_);
    }
    std::vector<nested_task*> inputs() const { return inputs_of_slots(slots_); }

private:
    void invoke() override {
        this->store([&]() -> R {
            return std::apply([&](auto&... s) -> R { return fn_(take_slot(s)...); }, slots_);
        });
    }
    R (*fn_)(P...);
    std::tuple<S...> slots_;
};

const task_entry& when_all_entry();

// tide::when_all inside a task: a task that runs nothing and is never lent; its value is its
// inputs' values, as a tuple (`list`: as a vector, from one vector of shared futures).
template <class R, bool list, class... S>
class nested_join final : public nested_result<R> {
public:
    template <class... A>
    explicit nested_join(A&&... inputs)
        : nested_result<R>(when_all_entry()), slots_(std::forward<A>(inputs)...) {}
    // A thief could not run it (it has no function): it stays.
    void encode_arguments(bytes&) const override {
        throw error("tide::when_all runs where it was made");
    }
    std::vector<nested_task*> inputs() const { return inputs_of_slots(slots_); }

private:
    void invoke() override {
        this->store([&]() -> R {
            if constexpr (list) {
                return take_slot(std::get<0>(slots_));
            } else {
                return std::apply([&](auto&... s) { return R(take_slot(s)...); }, slots_);
            }
        });
    }
    std::tuple<S...> slots_;
};

// Spawns a nested task with inputs: ready at once if they have all finished, else when the last
// does; `order` adds inputs whose values it does not take.
template <class T>
future<typename T::result_type> spawn_with_inputs(T* task, const after_t* order) {
    std::vector<nested_task*> inputs;
    try {
        inputs = task->inputs();
        if (order)
            for (auto* t : order->nested_inputs()) inputs.push_back(t);
    } catch (...) {
        delete task;  // nobody else holds it yet
        throw;
    }
    spawn_after(task, inputs);
    return future<typename T::result_type>(task);
}

template <class P, class A>
decltype(auto) to_slot(A&& a) {
    if constexpr (input_kind<A> == 0) {
        return as_parameter<P>(std::forward<A>(a));
    } else {
        return std::forward<A>(a);
    }
}

// tide::submit inside a task, with inputs among the arguments, or an ordering, or both.
template <class R, class... P, class... A>
future<R> submit_nested(const task_entry& entry, R (*fn)(P...), const after_t* order, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "wrong number of arguments for this task");
    (check_input<P, A>(), ...);
    auto* task = new nested_graph_call<R(P...), slot_t<P, A>...>(
        entry, fn, to_slot<P>(std::forward<A>(args))...);
    return spawn_with_inputs(task, order);
}

}  // namespace detail

// A future of all these futures' results: a std::tuple of them (futures are used up, shared
// futures not), or a std::vector from a vector of shared futures. It is ready when all are;
// if one fails, its get() throws that task's error. Nothing runs for it: on rank 0 the
// results are gathered where they arrive; inside a task, where it was made.
//   auto [a, b] = tide::when_all(d.submit(f, 1), std::move(g)).get();
//   std::vector<double> parts = tide::when_all(shared_parts).get();
template <class... F>
requires(sizeof...(F) > 0 && ((detail::input_kind<F> == 1) && ...))
    future<std::tuple<typename detail::input_traits<std::remove_cvref_t<F>>::value...>> when_all(
        F&&... fs) {
    (detail::check_input<typename detail::input_traits<std::remove_cvref_t<F>>::value, F>(), ...);
    using R = std::tuple<typename detail::input_traits<std::remove_cvref_t<F>>::value...>;
    const auto eng = detail::input_access::engine_of(std::get<0>(std::forward_as_tuple(fs...)));
    if (eng) {
        std::vector<detail::task_input> inputs{{0, detail::input_access::on_rank0(*eng, fs)}...};
        future<R> out(eng, eng->join({}, std::move(inputs)));
        (detail::use_up(std::forward<F>(fs)), ...);
        return out;
    }
    auto* task =
        new detail::nested_join<R, false, std::remove_cvref_t<F>...>(std::forward<F>(fs)...);
    return detail::spawn_with_inputs(task, nullptr);
}

template <class T>
future<std::vector<T>> when_all(const std::vector<shared_future<T>>& fs) {
    if (fs.empty())
        throw error(
            "tide::when_all of an empty vector: there is no task to make its future for; "
            "handle the empty case before");
    if (const auto eng = detail::input_access::engine_of(fs.front())) {
        detail::graph_call call;
        detail::append_values(call.literal, static_cast<std::uint64_t>(fs.size()));
        for (const auto& f : fs)
            call.inputs.push_back({call.literal.size(), detail::input_access::on_rank0(*eng, f)});
        return future<std::vector<T>>(eng,
                                      eng->join(std::move(call.literal), std::move(call.inputs)));
    }
    auto* task = new detail::nested_join<std::vector<T>, true, std::vector<shared_future<T>>>(fs);
    return detail::spawn_with_inputs(task, nullptr);
}

template <class R>
template <class R2, class... P, class... A>
future<R2> future<R>::then(R2 (*fn)(P...), A&&... more) {
    const auto& entry = detail::registered_entry(fn);
    if (nested_)
        return detail::submit_nested(entry, fn, nullptr, std::move(*this),
                                     std::forward<A>(more)...);
    const auto eng = checked_engine();
    return detail::submit_on_rank0<R2, P...>(eng, entry, nullptr, std::move(*this),
                                             std::forward<A>(more)...);
}

}  // namespace tide
