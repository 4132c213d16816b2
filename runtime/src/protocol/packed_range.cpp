#include "tide/detail/packed_range.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "tide/error.hpp"
#include "tide/scheduler/bulk_ranges.hpp"

namespace tide::detail {

namespace {
template <class T>
void put(bytes& out, T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), p, p + sizeof v);
}
template <class T>
T get(std::span<const std::byte> in, std::size_t at) {
    T v;
    std::memcpy(&v, in.data() + at, sizeof v);
    return v;
}
[[noreturn]] void malformed(const std::string& what) {
    throw protocol_error("tide: malformed packed range: " + what);
}
}  // namespace

void packed_writer::end_element(std::uint8_t status) {
    // The caller keeps a range under 4 GiB (a piece is cut at --tide-batch-bytes, and one
    // element is at most max_payload).
    if (data_.size() > std::numeric_limits<std::uint32_t>::max())
        throw error("tide: a packed range grew past 4 GiB");
    ends_.push_back(static_cast<std::uint32_t>(data_.size()));
    statuses_.push_back(status);
    any_status_ = any_status_ || status != 0;
}

bytes packed_writer::finish(bool with_statuses) {
    const auto n = count();
    std::uint32_t stride = n == 0 ? 0 : ends_[0];
    for (std::uint32_t i = 1; i < n && stride != varying_stride; ++i)
        if (ends_[i] - ends_[i - 1] != stride) stride = varying_stride;
    const bool statuses = with_statuses && any_status_;
    bytes out;
    out.reserve(packed_header_size + (stride == varying_stride ? 4 * n : 0) + (statuses ? n : 0) +
                data_.size());
    put(out, n);
    put(out, stride);
    put(out, static_cast<std::uint8_t>(statuses));
    if (stride == varying_stride) {
        const auto* p = reinterpret_cast<const std::byte*>(ends_.data());
        out.insert(out.end(), p, p + 4 * std::size_t{n});
    }
    if (statuses) {
        const auto* p = reinterpret_cast<const std::byte*>(statuses_.data());
        out.insert(out.end(), p, p + n);
    }
    out.insert(out.end(), data_.begin(), data_.end());
    data_.clear();
    ends_.clear();
    statuses_.clear();
    any_status_ = false;
    return out;
}

packed_view::packed_view(std::span<const std::byte> packed) {
    if (packed.size() < packed_header_size) malformed("shorter than its header");
    count_ = get<std::uint32_t>(packed, 0);
    stride_ = get<std::uint32_t>(packed, 4);
    // No range holds more (rank 0 cuts them): a claim of billions of empty elements in a few
    // bytes would have a worker run, and pack results for, all of them (found by the fuzzer).
    if (count_ > sched::max_range)
        malformed(std::to_string(count_) + " elements, more than a range holds (" +
                  std::to_string(sched::max_range) + ")");
    const auto with_statuses = get<std::uint8_t>(packed, 8);
    if (with_statuses > 1) malformed("status flag " + std::to_string(with_statuses));
    std::size_t at = packed_header_size;
    const std::size_t left = packed.size() - at;
    const std::size_t ends_bytes = stride_ == varying_stride ? 4 * std::size_t{count_} : 0;
    const std::size_t status_bytes = with_statuses ? count_ : 0;
    if (ends_bytes + status_bytes > left)
        malformed(std::to_string(count_) + " elements in " + std::to_string(packed.size()) +
                  " bytes");
    ends_ = packed.subspan(at, ends_bytes);
    at += ends_bytes;
    statuses_ = packed.subspan(at, status_bytes);
    at += status_bytes;
    data_ = packed.subspan(at);
    if (stride_ != varying_stride) {
        if (std::size_t{count_} * stride_ != data_.size())
            malformed(std::to_string(count_) + " elements of " + std::to_string(stride_) +
                      " bytes in " + std::to_string(data_.size()));
        return;
    }
    std::uint32_t previous = 0;
    for (std::uint32_t i = 0; i < count_; ++i) {
        const auto end = end_of(i);
        if (end < previous || end > data_.size()) malformed("element " + std::to_string(i));
        previous = end;
    }
    if (previous != data_.size()) malformed("bytes after the last element");
}

std::uint32_t packed_view::end_of(std::uint32_t i) const {
    return get<std::uint32_t>(ends_, 4 * std::size_t{i});
}

std::uint32_t packed_count(std::span<const std::byte> packed) {
    return packed.size() < packed_header_size ? 0 : get<std::uint32_t>(packed, 0);
}

}  // namespace tide::detail
