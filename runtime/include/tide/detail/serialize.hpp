#pragma once
// Serialization of task arguments and results with cereal's binary format, written into and
// read from plain byte vectors. The output stream is per thread and reused (building a
// std::ostream costs more than serializing a small task); input is read straight from the span.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <span>
#include <streambuf>
#include <type_traits>
#include <vector>

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
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

// Reads what cereal::BinaryOutputArchive writes, from a byte span, and refuses a container
// size larger than the bytes left. cereal sizes a container before reading its elements, so
// with the stock binary archive a corrupt size field of 2^60 would allocate before failing;
// here it fails at once. (Every element takes at least one byte — a container of empty
// classes is the one legal exception, and is refused.)
class bounded_input_archive
    : public cereal::InputArchive<bounded_input_archive, cereal::AllowEmptyClassElision> {
public:
    explicit bounded_input_archive(std::span<const std::byte> in) : InputArchive(this), in_(in) {}

    void loadBinary(void* data, std::size_t size) {
        if (size > remaining()) throw decode_failure{};
        std::memcpy(data, in_.data() + pos_, size);
        pos_ += size;
    }
    std::size_t remaining() const { return in_.size() - pos_; }

private:
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
};

template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar,
                                                                    T& t) {
    ar.loadBinary(std::addressof(t), sizeof(t));
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

// Appends the cereal encoding of `values` to `out`; throws payload_too_large past max_payload.
template <class... T>
void append_values(bytes& out, const T&... values) {
    thread_local append_buffer buf;
    thread_local std::ostream os(&buf);
    buf.target(&out);
    cereal::BinaryOutputArchive archive(os);
    archive(values...);
}

// Decodes exactly one T from `in`; throws decode_failure if the bytes are short, malformed, or
// longer than one T (trailing bytes mean the sender encoded something else).
template <class T>
T read_value(std::span<const std::byte> in) {
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
