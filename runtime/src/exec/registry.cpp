#include "tide/detail/registry.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <unordered_map>

#include "tide/error.hpp"

namespace tide::detail {

std::string demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    std::string text = status == 0 && out ? std::string(out.get()) : std::string(mangled);
    // The spelled-out std::string is unreadable in an error message.
    const std::string_view long_string =
        "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
    for (auto at = text.find(long_string); at != std::string::npos; at = text.find(long_string))
        text.replace(at, long_string.size(), "std::string");
    return text;
}

// Filled during static initialisation, read-only afterwards: no lock is needed once main runs.
struct registry::impl {
    std::unordered_map<std::uint64_t, std::unique_ptr<task_entry>> by_hash;
    std::map<erased_fn, const task_entry*> by_function;
};

registry& registry::instance() {
    static registry r;
    return r;
}

registry::impl& registry::state() const {
    static impl s;  // function-local: safe whatever the order of static initialisation
    return s;
}

const task_entry& registry::add(std::string name, const signature& sig, erased_fn fn,
                                invoker invoke, bool canonical_arguments) {
    auto& s = state();
    const auto hash = fnv1a(name);
    if (auto it = s.by_hash.find(hash); it != s.by_hash.end()) {
        if (it->second->fn == fn) return *it->second;  // the same TIDE_TASK seen twice
        throw error(it->second->name == name
                        ? "tide: two different functions are registered as task '" + name + "'"
                        : "tide: task names '" + name + "' and '" + it->second->name +
                              "' collide; rename one with TIDE_TASK_NAMED");
    }
    auto entry = std::make_unique<task_entry>(
        task_entry{std::move(name), hash, &sig, fn, invoke, canonical_arguments});
    const task_entry& ref = *entry;
    s.by_function.emplace(fn, &ref);
    s.by_hash.emplace(hash, std::move(entry));
    return ref;
}

const task_entry* registry::by_hash(std::uint64_t name_hash) const {
    auto& s = state();
    auto it = s.by_hash.find(name_hash);
    return it == s.by_hash.end() ? nullptr : it->second.get();
}

const task_entry* registry::by_name(std::string_view name) const {
    const task_entry* e = by_hash(fnv1a(name));
    return e && e->name == name ? e : nullptr;
}

const task_entry* registry::by_function(erased_fn fn) const {
    auto& s = state();
    auto it = s.by_function.find(fn);
    return it == s.by_function.end() ? nullptr : it->second;
}

}  // namespace tide::detail

namespace tide::detail {

std::uint64_t registry::task_set() const {
    // A sum of per-task hashes: the order tasks registered in does not matter.
    std::uint64_t sum = 0;
    for (const auto& [hash, entry] : state().by_hash) {
        std::uint64_t h = fnv1a(entry->sig->text) ^ (hash * 0x9e3779b97f4a7c15ull);
        h ^= h >> 31;
        h *= 0xbf58476d1ce4e5b9ull;
        sum += h ^ (h >> 29);
    }
    return sum;
}

}  // namespace tide::detail
