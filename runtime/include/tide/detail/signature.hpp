#pragma once
// A task's signature: the text "R(A, B)" of its result and decayed parameter types, and a hash
// of it. Rank 0 and workers compare hashes, so arguments sent by name can never be read as
// the wrong types; the text makes the error message readable.

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <typeinfo>

namespace tide::detail {

constexpr std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

std::string demangle(const char* mangled);

struct signature {
    std::string text;
    std::uint64_t hash;
};

template <class R, class... A>
const signature& signature_of() {
    static const signature sig = [] {
        std::string text = demangle(typeid(R).name()) + "(";
        [[maybe_unused]] const char* sep = "";  // unused for a function of no parameters
        ((text += sep, text += demangle(typeid(A).name()), sep = ", "), ...);
        text += ")";
        return signature{text, fnv1a(text)};
    }();
    return sig;
}

}  // namespace tide::detail
