// The packed range, the form in which a bulk submission's arguments and results travel: what
// is written reads back element by element, equal sizes cost no per-element bytes, and a
// malformed range is refused with tide::protocol_error before any element is read.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tide/detail/packed_range.hpp"
#include "tide/error.hpp"

using tide::detail::bytes;
using tide::detail::packed_view;
using tide::detail::packed_writer;

namespace {

void append(packed_writer& w, const std::string& s, std::uint8_t status = 0) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    w.data().insert(w.data().end(), p, p + s.size());
    w.end_element(status);
}

std::string text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

TEST(PackedRange, ElementsOfVaryingSizeReadBackInOrder) {
    packed_writer w;
    for (const char* s : {"a", "", "three", "xy"}) append(w, s);
    const bytes packed = w.finish(true);
    const packed_view v(packed);
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(text(v.at(0)), "a");
    EXPECT_EQ(text(v.at(1)), "");
    EXPECT_EQ(text(v.at(2)), "three");
    EXPECT_EQ(text(v.at(3)), "xy");
    for (std::uint32_t i = 0; i < 4; ++i) EXPECT_EQ(v.status(i), 0);
    EXPECT_EQ(tide::detail::packed_count(packed), 4u);
}

TEST(PackedRange, EqualSizesCostNoBytePerElement) {
    packed_writer w;
    for (int i = 0; i < 1000; ++i) append(w, "12345678");
    const bytes packed = w.finish(true);
    EXPECT_EQ(packed.size(), tide::detail::packed_header_size + 8000);
    const packed_view v(packed);
    EXPECT_EQ(text(v.at(999)), "12345678");
}

TEST(PackedRange, StatusesTravelOnlyWhenATaskFailed) {
    packed_writer w;
    append(w, "ok");
    append(w, "boom", 1);
    append(w, "ok");
    const bytes packed = w.finish(true);
    const packed_view v(packed);
    EXPECT_EQ(v.status(0), 0);
    EXPECT_EQ(v.status(1), 1);
    EXPECT_EQ(text(v.at(1)), "boom");
    // Arguments never carry statuses, and the writer starts afresh after finish().
    append(w, "x");
    const bytes args = w.finish(false);
    EXPECT_EQ(packed_view(args).size(), 1u);
    EXPECT_EQ(args.size(), tide::detail::packed_header_size + 1);
}

TEST(PackedRange, MalformedRangesAreRefused) {
    packed_writer w;
    for (const char* s : {"ab", "c", "def"}) append(w, s);
    const bytes good = w.finish(true);
    const auto refused = [](bytes b) { EXPECT_THROW(packed_view{b}, tide::protocol_error); };
    refused(bytes(good.begin(), good.begin() + 5));  // shorter than the header
    bytes longer = good;
    longer.push_back(std::byte{0});
    refused(longer);  // bytes after the last element
    bytes shorter = good;
    shorter.pop_back();
    refused(shorter);  // the last element runs past the end
    bytes lying = good;
    const std::uint32_t huge = 0x40000000;
    std::memcpy(lying.data(), &huge, 4);
    refused(lying);  // a count the buffer cannot hold
    // Billions of empty elements in a few bytes: more than any range holds.
    bytes empties(tide::detail::packed_header_size, std::byte{0});
    std::memcpy(empties.data(), &huge, 4);
    refused(empties);
    bytes backwards = good;
    const std::uint32_t past = 100;
    std::memcpy(backwards.data() + tide::detail::packed_header_size, &past, 4);
    refused(backwards);  // an element ending past the data
    bytes flag = good;
    flag[8] = std::byte{7};
    refused(flag);
    // Equal sizes: the count times the stride must be the data.
    packed_writer e;
    for (int i = 0; i < 3; ++i) append(e, "xy");
    bytes stride = e.finish(false);
    stride.pop_back();
    refused(stride);
}
