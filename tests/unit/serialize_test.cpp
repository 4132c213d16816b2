// The serialization layer: everything cereal's binary archive writes, the bounded archive reads
// back; corrupt or lying bytes fail with decode_failure and never allocate what they claim.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <new>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "tide/detail/serialize.hpp"

using tide::detail::append_values;
using tide::detail::bytes;
using tide::detail::decode_failure;
using tide::detail::read_value;

namespace {

struct record {
    std::string name;
    std::vector<std::vector<int>> grid;
    std::map<std::string, double> weights;
    std::unordered_map<int, std::string> labels;
    std::optional<std::tuple<int, char, bool>> extra;
    std::variant<int, std::string, std::vector<float>> payload;
    std::array<std::uint16_t, 3> small{};
    template <class A>
    void serialize(A& ar) {
        ar(name, grid, weights, labels, extra, payload, small);
    }
    bool operator==(const record&) const = default;
};

record sample() {
    return {"r",
            {{1, 2}, {}, {3}},
            {{"a", 0.5}, {"b", -1}},
            {{7, "seven"}},
            std::make_tuple(4, 'x', true),
            std::vector<float>{1.5f, 2.5f},
            {{1, 2, 3}}};
}

bytes encode(const record& r) {
    bytes b;
    append_values(b, r);
    return b;
}

}  // namespace

TEST(Serialize, RoundTripsStandardAndUserTypes) {
    const record r = sample();
    EXPECT_EQ(read_value<record>(encode(r)), r);
    record empty;
    EXPECT_EQ(read_value<record>(encode(empty)), empty);
}

TEST(Serialize, AppendsWithoutDisturbingWhatIsThere) {
    bytes b{std::byte{1}, std::byte{2}};
    append_values(b, std::string("x"));
    ASSERT_GT(b.size(), 2u);
    EXPECT_EQ(b[0], std::byte{1});
    EXPECT_EQ(read_value<std::string>(std::span(b).subspan(2)), "x");
}

TEST(Serialize, SizeLargerThanTheBytesLeftIsRefused) {
    bytes b;
    append_values(b, std::vector<std::string>{"a", "b"});
    const std::uint64_t lie = 50'000'000;  // strings the stock archive would construct first
    std::memcpy(b.data(), &lie, sizeof lie);
    EXPECT_THROW(read_value<std::vector<std::string>>(b), decode_failure);

    bytes s;
    append_values(s, std::string("hello"));
    const std::uint64_t huge = std::uint64_t{1} << 62;
    std::memcpy(s.data(), &huge, sizeof huge);
    EXPECT_THROW(read_value<std::string>(s), decode_failure);
}

TEST(Serialize, ShortOrLongInputIsRefused) {
    const auto b = encode(sample());
    for (std::size_t n = 0; n < b.size(); ++n)
        EXPECT_THROW(read_value<record>(std::span(b).first(n)), decode_failure) << n;
    auto longer = b;
    longer.push_back(std::byte{0});
    EXPECT_THROW(read_value<record>(longer), decode_failure);
}

// Random corruption: either a value comes back or decode_failure; nothing else escapes.
TEST(Serialize, CorruptedBytesNeverEscapeAsAnythingElse) {
    std::mt19937 rng(5);
    const auto good = encode(sample());
    for (int i = 0; i < 20000; ++i) {
        bytes b = good;
        for (int k = 0, n = 1 + static_cast<int>(rng() % 6); k < n; ++k)
            b[rng() % b.size()] = static_cast<std::byte>(rng());
        try {
            (void)read_value<record>(b);
        } catch (const decode_failure&) {
        }
    }
}

// --- allocation tracking for the tests below: the largest single request since reset -------------
namespace {
std::atomic<std::size_t> largest_allocation{0};
}  // namespace

// These replace the global allocator for the whole test binary (malloc/free underneath);
// GCC cannot see that and warns that free() meets memory from operator new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
    std::size_t seen = largest_allocation.load(std::memory_order_relaxed);
    while (n > seen && !largest_allocation.compare_exchange_weak(seen, n)) {
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// The non-throwing forms too (std::stable_sort's buffer uses them): every new and delete of the
// binary must meet the same allocator.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

// A corrupt count may not make the decoder allocate for elements that are not there: 999
// elements of 8 KiB each are claimed, the first one's bytes are missing.
TEST(Serialize, CorruptCountDoesNotAllocateForMissingElements) {
    using element = std::optional<std::array<double, 1024>>;
    bytes b;
    append_values(b, std::vector<element>{});
    const std::uint64_t claim = 999;
    std::memcpy(b.data(), &claim, sizeof claim);
    b.resize(b.size() + 999, std::byte{0});  // 0: "not nullopt", then too few bytes for the array
    largest_allocation = 0;
    EXPECT_THROW(read_value<std::vector<element>>(b), decode_failure);
    EXPECT_LT(largest_allocation.load(), std::size_t{1} << 20)
        << "allocated " << largest_allocation.load() << " bytes for a " << b.size()
        << "-byte input";
}

// Legit nesting decodes; nesting beyond the limit fails cleanly instead of overflowing the stack.
struct tree {
    std::vector<tree> kids;
    template <class A>
    void serialize(A& ar) {
        ar(kids);
    }
};

TEST(Serialize, DeepNestingIsRefusedNotAStackOverflow) {
    tree shallow;
    shallow.kids.resize(2);
    shallow.kids[0].kids.resize(3);
    bytes ok;
    append_values(ok, shallow);
    EXPECT_EQ(read_value<tree>(ok).kids[0].kids.size(), 3u);

    // A million nested one-element vectors: each level is just the count 1.
    bytes deep;
    for (int i = 0; i < 1'000'000; ++i) append_values(deep, std::uint64_t{1});
    append_values(deep, std::uint64_t{0});
    EXPECT_THROW(read_value<tree>(deep), decode_failure);
}

TEST(Serialize, SequencesOfAllKindsRoundTrip) {
    const std::vector<bool> flags{true, false, true};
    const std::deque<std::string> names{"a", "bb"};
    const std::list<std::vector<int>> lists{{1}, {}, {2, 3}};
    bytes b;
    append_values(b, std::make_tuple(flags, names, lists));
    const auto back = read_value<
        std::tuple<std::vector<bool>, std::deque<std::string>, std::list<std::vector<int>>>>(b);
    EXPECT_EQ(std::get<0>(back), flags);
    EXPECT_EQ(std::get<1>(back), names);
    EXPECT_EQ(std::get<2>(back), lists);
}

// A bool travels as one byte, 0 or 1; any other byte is corrupt, not "true".
TEST(Serialize, BoolOtherThanZeroOrOneIsRefused) {
    bytes b;
    append_values(b, std::make_tuple(true, std::optional<int>{}));
    EXPECT_TRUE(std::get<0>(read_value<std::tuple<bool, std::optional<int>>>(b)));
    b[0] = std::byte{183};
    EXPECT_THROW((read_value<std::tuple<bool, std::optional<int>>>(b)), decode_failure);
    b[0] = std::byte{1};
    b[1] = std::byte{2};  // the optional's flag
    EXPECT_THROW((read_value<std::tuple<bool, std::optional<int>>>(b)), decode_failure);
}

// Numbers and tuples of numbers are encoded without cereal (an archive costs more than a no-op
// task): the bytes must be exactly cereal's, which the other side may still read with an
// archive (a type mixing numbers and strings, an older peer).
TEST(Serialize, NumbersEncodeExactlyAsCerealDoes) {
    const auto cereal_bytes = [](const auto& value) {
        std::ostringstream os;
        {
            cereal::BinaryOutputArchive archive(os);
            archive(value);
        }
        const std::string s = os.str();
        const auto* p = reinterpret_cast<const std::byte*>(s.data());
        return bytes(p, p + s.size());
    };
    const auto ours = [](const auto& value) {
        bytes out;
        append_values(out, value);
        return out;
    };
    using mixed_t = std::tuple<std::uint64_t, int, double, float, char, std::int16_t>;
    const mixed_t mixed{0x0102030405060708ULL, -7, 2.5, -0.25f, 'x', -300};
    static_assert(tide::detail::plain_bytes<mixed_t>::value);
    EXPECT_EQ(ours(mixed), cereal_bytes(mixed));
    EXPECT_EQ(ours(std::uint64_t{42}), cereal_bytes(std::uint64_t{42}));
    EXPECT_EQ(ours(-1.0), cereal_bytes(-1.0));
    EXPECT_EQ(read_value<mixed_t>(ours(mixed)), mixed);
    // Wrong lengths are refused, as the archive refuses them.
    auto longer = ours(std::uint64_t{42});
    longer.push_back(std::byte{0});
    EXPECT_THROW(read_value<std::uint64_t>(longer), decode_failure);
    EXPECT_THROW(read_value<std::uint64_t>(bytes(4)), decode_failure);
    // bool is not among them: its byte must be 0 or 1, which the archive path checks.
    static_assert(!tide::detail::plain_bytes<bool>::value);
    static_assert(!tide::detail::plain_bytes<std::tuple<int, bool>>::value);
}
