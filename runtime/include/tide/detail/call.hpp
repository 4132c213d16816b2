#pragma once
// How a call's arguments become the bytes a task is sent with, shared by the driver's submit
// and by tide::submit inside tasks.

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tide/detail/registry.hpp"
#include "tide/error.hpp"

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
void append_call(bytes& out, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "wrong number of arguments for this task");
    append_values(out, std::forward_as_tuple(as_parameter<P>(std::forward<A>(args))...));
}
template <class... P, class... A>
bytes encode_call(A&&... args) {
    bytes out;
    append_call<P...>(out, std::forward<A>(args)...);
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

// Appends one element of a bulk submission to `out`: a tuple is unpacked into the parameters,
// anything else is the single argument.
template <class... P, class E>
void append_element(const task_entry& entry, bytes& out, const E& element) {
    try {
        if constexpr (is_tuple<std::decay_t<E>>::value && sizeof...(P) != 1) {
            std::apply([&](const auto&... a) { append_call<P...>(out, a...); }, element);
        } else {
            append_call<P...>(out, element);
        }
    } catch (const payload_too_large&) {
        throw_arguments_too_large(entry);
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

}  // namespace tide
