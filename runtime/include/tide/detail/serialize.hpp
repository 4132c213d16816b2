#pragma once
// Serialization of task arguments and results with cereal's binary format, written into and
// read from plain byte vectors. The output stream is per thread and reused (building a
// std::ostream costs more than serializing a small task); input is read straight from the span.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <memory>
#include <ostream>
#include <span>
#include <streambuf>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

namespace tide::detail {

using bytes = std::vector<std::byte>;

// The largest encoded argument tuple or result of one task: one MPI message carries at most
// 2 GiB (an int count of bytes), less room for the batch around it.
inline constexpr std::size_t max_payload = (std::size_t{1} << 31) - (std::size_t{4} << 20);

// Raised while encoding as soon as a payload passes max_payload, before gigabytes are copied.
struct payload_too_large : std::exception {
    const char* what() const noexcept override { return "payload larger than one message"; }
};

// Appends everything written to it to a byte vector, refusing to grow one payload past
// max_payload.
class append_buffer : public std::streambuf {
public:
    void target(bytes* out) {
        out_ = out;
        start_ = out->size();
    }

protected:
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        const auto old = out_->size();
        if (old - start_ + static_cast<std::size_t>(n) > max_payload) throw payload_too_large{};
        const auto* b = reinterpret_cast<const std::byte*>(s);
        out_->insert(out_->end(), b, b + n);  // not resize + memcpy, which zeroes first
        return n;
    }
    int_type overflow(int_type c) override {
        if (out_->size() - start_ + 1 > max_payload) throw payload_too_large{};
        if (!traits_type::eq_int_type(c, traits_type::eof()))
            out_->push_back(static_cast<std::byte>(traits_type::to_char_type(c)));
        return traits_type::not_eof(c);
    }

private:
    bytes* out_ = nullptr;
    std::size_t start_ = 0;
};

// Raised when bytes do not deserialize into the expected types.
struct decode_failure : std::exception {
    const char* what() const noexcept override { return "payload does not decode"; }
};

// Reads what cereal::BinaryOutputArchive writes, from a byte span, never trusting a size field
// further than the bytes present: a container size larger than the bytes left fails at once
// (every element takes at least one byte; a container of empty classes, the one legal
// exception, is refused), sequences grow as their elements are read instead of being sized up
// front (the stock archive would construct count x sizeof(T) before failing), and nesting
// deeper than max_depth fails instead of exhausting the stack.
class bounded_input_archive
    : public cereal::InputArchive<bounded_input_archive, cereal::AllowEmptyClassElision> {
public:
    explicit bounded_input_archive(std::span<const std::byte> in) : InputArchive(this), in_(in) {}

    void loadBinary(void* data, std::size_t size) {
        if (size > remaining()) throw decode_failure{};
        if (size == 0) return;  // data may be null (an empty vector's)
        std::memcpy(data, in_.data() + pos_, size);
        pos_ += size;
    }
    std::size_t remaining() const { return in_.size() - pos_; }

    static constexpr int max_depth = 1000;
    void enter() {
        if (++depth_ > max_depth) throw decode_failure{};
    }
    void leave() { --depth_; }

private:
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
    int depth_ = 0;
};

// Called by cereal around every value it reads: counts nesting.
template <class T>
void prologue(bounded_input_archive& ar, const T&) {
    ar.enter();
}
template <class T>
void epilogue(bounded_input_archive& ar, const T&) {
    ar.leave();
}

template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar,
                                                                    T& t) {
    if constexpr (std::is_same_v<T, bool>) {
        // A byte other than 0 or 1 is not a bool: reading it as one is undefined behaviour.
        std::uint8_t byte = 0;
        ar.loadBinary(&byte, 1);
        if (byte > 1) throw decode_failure{};
        t = byte != 0;
    } else {
        ar.loadBinary(std::addressof(t), sizeof(t));
    }
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, cereal::NameValuePair<T>& t) {
    ar(t.value);
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, cereal::SizeTag<T>& t) {
    ar(t.size);
    if (static_cast<std::uint64_t>(t.size) > ar.remaining()) throw decode_failure{};
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, cereal::BinaryData<T>& bd) {
    ar.loadBinary(bd.data, static_cast<std::size_t>(bd.size));
}

// Sequences grow element by element as the bytes arrive (see bounded_input_archive).
template <class Sequence>
void load_sequence(bounded_input_archive& ar, Sequence& seq) {
    cereal::size_type n = 0;
    ar(cereal::make_size_tag(n));
    seq.clear();
    for (cereal::size_type i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<typename Sequence::value_type, bool>) {
            bool b = false;
            ar(b);
            seq.push_back(b);
        } else {
            seq.emplace_back();
            ar(seq.back());
        }
    }
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, std::vector<T, A>& v) {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
        // Written as one block of bytes: its size is known before anything is allocated.
        cereal::size_type n = 0;
        ar(cereal::make_size_tag(n));
        if (n > ar.remaining() / sizeof(T)) throw decode_failure{};
        v.resize(static_cast<std::size_t>(n));
        ar.loadBinary(v.data(), static_cast<std::size_t>(n) * sizeof(T));
    } else {
        load_sequence(ar, v);
    }
}

// vector<bool> needs its own overload: cereal has one, and the generic one above would be as
// good a match.
template <class A>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, std::vector<bool, A>& v) {
    load_sequence(ar, v);
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, std::deque<T, A>& d) {
    load_sequence(ar, d);
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, std::list<T, A>& l) {
    load_sequence(ar, l);
}

// Whether equal values of T always serialize to the same bytes, as far as tide can see: not for
// unordered containers (their bytes follow the hash table's order, which depends on the
// history of insertions and erasures), nor anything holding one. The journal recognises a call
// by its argument bytes, so it refuses tasks whose arguments fail this. A type with its own
// serialize() is taken as canonical: keep its bytes a function of its value.
template <class T>
struct canonical_bytes : std::true_type {};
template <class... T>
inline constexpr bool all_canonical = (canonical_bytes<std::decay_t<T>>::value && ...);
template <class K, class V, class H, class E, class A>
struct canonical_bytes<std::unordered_map<K, V, H, E, A>> : std::false_type {};
template <class K, class V, class H, class E, class A>
struct canonical_bytes<std::unordered_multimap<K, V, H, E, A>> : std::false_type {};
template <class K, class H, class E, class A>
struct canonical_bytes<std::unordered_set<K, H, E, A>> : std::false_type {};
template <class K, class H, class E, class A>
struct canonical_bytes<std::unordered_multiset<K, H, E, A>> : std::false_type {};
// Any other template (containers, tuples, optionals, variants): canonical if what it holds is.
template <template <class...> class C, class... T>
struct canonical_bytes<C<T...>> : std::bool_constant<all_canonical<T...>> {};
template <class T, std::size_t N>
struct canonical_bytes<std::array<T, N>> : canonical_bytes<T> {};

// Numbers (not bool, whose bytes must be checked), and tuples of them, are what cereal's binary
// archive makes of them: their bytes as in memory, one after another. They are encoded and
// decoded here without an archive, whose set-up costs more than the copy: as much as a whole
// no-op task (measured with tide-bench throughput).
template <class T>
struct plain_bytes : std::bool_constant<(std::is_integral_v<T> && !std::is_same_v<T, bool>) ||
                                        std::is_same_v<T, float> || std::is_same_v<T, double>> {};
template <class... T>
struct plain_bytes<std::tuple<T...>>
    : std::bool_constant<(plain_bytes<std::remove_cvref_t<T>>::value && ...)> {};

template <class T>
void put_plain(bytes& out, const T& v) {
    if constexpr (std::is_arithmetic_v<T>) {
        const auto at = out.size();
        out.resize(at + sizeof v);
        std::memcpy(out.data() + at, &v, sizeof v);
    } else {
        std::apply([&](const auto&... e) { (put_plain(out, e), ...); }, v);
    }
}
template <class T>
constexpr std::size_t plain_size() {
    if constexpr (std::is_arithmetic_v<T>) {
        return sizeof(T);
    } else {
        return []<class... E>(std::tuple<E...>*) {
            return (plain_size<std::remove_cvref_t<E>>() + ... + 0);
        }(static_cast<T*>(nullptr));
    }
}
template <class T>
void get_plain(const std::byte*& at, T& v) {
    if constexpr (std::is_arithmetic_v<T>) {
        std::memcpy(&v, at, sizeof v);
        at += sizeof v;
    } else {
        std::apply([&](auto&... e) { (get_plain(at, e), ...); }, v);
    }
}

// Appends the cereal encoding of `values` to `out`; throws payload_too_large past max_payload.
template <class... T>
void append_values(bytes& out, const T&... values) {
    if constexpr ((plain_bytes<T>::value && ...)) {
        (put_plain(out, values), ...);
    } else {
        thread_local append_buffer buf;
        thread_local std::ostream os(&buf);
        buf.target(&out);
        cereal::BinaryOutputArchive archive(os);
        archive(values...);
    }
}

// Decodes exactly one T from `in`; throws decode_failure if the bytes are short, malformed, or
// longer than one T (trailing bytes mean the sender encoded something else).
template <class T>
T read_value(std::span<const std::byte> in) {
    if constexpr (plain_bytes<T>::value) {
        if (in.size() != plain_size<T>()) throw decode_failure{};
        T value{};
        const std::byte* at = in.data();
        get_plain(at, value);
        return value;
    } else {
        bounded_input_archive archive(in);
        T value{};
        try {
            archive(value);
        } catch (const cereal::Exception&) {  // e.g. an out-of-range variant index
            throw decode_failure{};
        } catch (const std::length_error&) {
            throw decode_failure{};
        } catch (const std::bad_alloc&) {
            throw decode_failure{};
        }
        if (archive.remaining() != 0) throw decode_failure{};
        return value;
    }
}

}  // namespace tide::detail

// Polymorphic pointers need the archive registered, as cereal's own archives are.
CEREAL_REGISTER_ARCHIVE(tide::detail::bounded_input_archive)

// Binary data written by cereal's binary output archive is what the bounded archive reads.
namespace cereal::traits::detail {
template <>
struct get_output_from_input<tide::detail::bounded_input_archive> {
    using type = cereal::BinaryOutputArchive;
};
}  // namespace cereal::traits::detail
