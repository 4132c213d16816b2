#pragma once
// A packed range: the encoded arguments, or the results, of many tasks of one function in one
// buffer. A bulk submission (driver::map, driver::submit_all) travels in pieces of this form,
// rank 0 to worker and back, so that rank 0 handles one record, one entry in a message and one
// result per piece rather than per task. Layout (integers little-endian, as on the wire):
//
//   u32 count            elements in the range (at most sched::max_range)
//   u32 stride           bytes of every element, or varying_stride
//   u8  with_statuses    1 for results: a status byte per element follows
//   count x u32 end      only with varying_stride: where each element's bytes end in `data`
//   count x u8 status    only with statuses: a sched::outcome per element (0: ok)
//   data                 the elements' bytes, one after another
//
// Elements of one size (a number, a fixed struct, a void task's empty result) are the common
// case, and then the range costs no byte per element beyond the element itself.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tide/detail/registry.hpp"

namespace tide::detail {

inline constexpr std::uint32_t varying_stride = 0xffffffffu;
inline constexpr std::size_t packed_header_size = 9;

// Builds a packed range element by element: write an element's bytes at the end of data(),
// then end_element().
class packed_writer {
public:
    bytes& data() { return data_; }
    void end_element(std::uint8_t status = 0);
    std::uint32_t count() const { return static_cast<std::uint32_t>(ends_.size()); }
    std::size_t data_size() const { return data_.size(); }
    // The packed range (statuses only if asked for and some element failed); the writer is
    // empty again afterwards, its buffers kept for the next range.
    bytes finish(bool with_statuses);

private:
    bytes data_;
    std::vector<std::uint32_t> ends_;
    std::vector<std::uint8_t> statuses_;
    bool any_status_ = false;
};

// A validated view of a packed range; every element lies inside the buffer.
class packed_view {
public:
    // Throws tide::protocol_error for anything short, overlapping or too long.
    explicit packed_view(std::span<const std::byte> packed);
    std::uint32_t size() const { return count_; }
    std::span<const std::byte> at(std::uint32_t i) const {
        if (stride_ != varying_stride) return data_.subspan(std::size_t{i} * stride_, stride_);
        const std::uint32_t begin = i == 0 ? 0 : end_of(i - 1);
        return data_.subspan(begin, end_of(i) - begin);
    }
    std::uint8_t status(std::uint32_t i) const {
        return statuses_.empty() ? 0 : static_cast<std::uint8_t>(statuses_[i]);
    }

private:
    std::uint32_t end_of(std::uint32_t i) const;
    std::uint32_t count_ = 0;
    std::uint32_t stride_ = 0;
    std::span<const std::byte> ends_, statuses_, data_;
};

// The element count of a packed range, read from its header without validating the rest (0 if
// the buffer is too short to have one).
std::uint32_t packed_count(std::span<const std::byte> packed);

}  // namespace tide::detail
