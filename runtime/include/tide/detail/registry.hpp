#pragma once
// The task registry: every rank of the same binary maps the same stable name to the same
// function. Registration happens during static initialisation (TIDE_TASK), so processes spawned
// later from the binary know every task before main() runs.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tide/detail/serialize.hpp"
#include "tide/detail/signature.hpp"

namespace tide::detail {

using erased_fn = void (*)();

// Decodes the arguments from `args`, calls the function, appends the encoded result to `out`.
// Throws decode_failure for arguments that do not decode; lets the task's exceptions through.
using invoker = void (*)(erased_fn fn, std::span<const std::byte> args, bytes& out);

struct task_entry {
    std::string name;
    std::uint64_t name_hash;
    const signature* sig;
    erased_fn fn;
    invoker invoke;
    // Equal arguments always encode to equal bytes (see canonical_bytes): a journal may
    // recognise a call by them.
    bool canonical_arguments = true;
};

template <class R, class... P>
void invoke_task(erased_fn erased, std::span<const std::byte> args, bytes& out) {
    auto fn = reinterpret_cast<R (*)(P...)>(erased);
    auto values = read_value<std::tuple<std::decay_t<P>...>>(args);
    if constexpr (std::is_void_v<R>) {
        std::apply(fn, std::move(values));
    } else {
        append_values(out, std::apply(fn, std::move(values)));
    }
}

class registry {
public:
    static registry& instance();

    // Throws tide::error for a name already taken by another function, or a hash collision.
    const task_entry& add(std::string name, const signature& sig, erased_fn fn, invoker invoke,
                          bool canonical_arguments);

    const task_entry* by_hash(std::uint64_t name_hash) const;
    const task_entry* by_name(std::string_view name) const;
    const task_entry* by_function(erased_fn fn) const;
    // A fingerprint of every registered task's name and signature: the same for every run of
    // the same program, different for a program with other tasks.
    std::uint64_t task_set() const;

private:
    registry() = default;
    struct impl;
    impl& state() const;
};

template <class R, class... P>
const task_entry& register_task(std::string name, R (*fn)(P...)) {
    static_assert(((!std::is_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>)&&...),
                  "tide tasks take their parameters by value or by const reference: a task runs "
                  "in another process, so it cannot write to the caller's objects");
    static_assert(!std::is_reference_v<R> && !std::is_pointer_v<R>,
                  "tide tasks return values, not references or pointers");
    return registry::instance().add(std::move(name), signature_of<R, std::decay_t<P>...>(),
                                    reinterpret_cast<erased_fn>(fn), &invoke_task<R, P...>,
                                    all_canonical<P...>);
}

}  // namespace tide::detail

#define TIDE_DETAIL_CONCAT2(a, b) a##b
#define TIDE_DETAIL_CONCAT(a, b) TIDE_DETAIL_CONCAT2(a, b)

// Registers `fn` as a task under the name "fn" (as written, namespaces included).
// Use at namespace scope, after the function:   int square(int x) { return x * x; }
//                                               TIDE_TASK(square);
#define TIDE_TASK(fn) TIDE_TASK_NAMED(fn, #fn)

// Registers `fn` under an explicit stable name, for example one that survives a rename. For one
// of several overloads, name the one meant:
//   TIDE_TASK_NAMED(static_cast<int (*)(int)>(scale), "scale_int");
#define TIDE_TASK_NAMED(fn, name)                                                 \
    [[maybe_unused]] static const ::tide::detail::task_entry& TIDE_DETAIL_CONCAT( \
        tide_task_registration_, __COUNTER__) = ::tide::detail::register_task(name, fn)
