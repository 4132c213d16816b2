#pragma once
// Serialization of task arguments and results with cereal's binary archives, written into and
// read from plain byte vectors. The streams are per thread and reused: building a std::ostream
// costs more than serializing a small task.

#include <cstddef>
#include <cstring>
#include <istream>
#include <ostream>
#include <span>
#include <streambuf>
#include <vector>

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
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
        out_->resize(old + static_cast<std::size_t>(n));
        std::memcpy(out_->data() + old, s, static_cast<std::size_t>(n));
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

// Reads from a byte span without copying it.
class span_buffer : public std::streambuf {
public:
    void source(std::span<const std::byte> in) {
        auto* p = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
        setg(p, p, p + in.size());
    }
    std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

// Raised when bytes do not deserialize into the expected types.
struct decode_failure : std::exception {
    const char* what() const noexcept override { return "payload does not decode"; }
};

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
    thread_local span_buffer buf;
    thread_local std::istream is(&buf);
    buf.source(in);
    T value{};
    try {
        cereal::BinaryInputArchive archive(is);
        archive(value);
    } catch (const cereal::Exception&) {
        throw decode_failure{};
    } catch (const std::length_error&) {  // a lying size field
        throw decode_failure{};
    } catch (const std::bad_alloc&) {
        throw decode_failure{};
    }
    if (buf.remaining() != 0) throw decode_failure{};
    return value;
}

}  // namespace tide::detail
