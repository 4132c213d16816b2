#include "journal/format.hpp"

#include <array>
#include <cstring>

namespace tide::detail::journal_format {

namespace {

constexpr char magic[8] = {'T', 'I', 'D', 'E', 'J', 'R', 'N', 'L'};
constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                        k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull;

// The two halves of the 128-bit product folded into one: every input bit reaches every output
// bit within two rounds.
__extension__ using u128 = unsigned __int128;  // GCC and clang have it on 64-bit targets
std::uint64_t fold(std::uint64_t a, std::uint64_t b) {
    const auto r = static_cast<u128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

std::uint64_t load64(const std::byte* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    return v;
}
std::uint32_t load32(const std::byte* p) {
    std::uint32_t v = 0;
    std::memcpy(&v, p, 4);
    return v;
}
template <class T>
void put(bytes& out, T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), p, p + sizeof v);
}
void put_text(bytes& out, const std::string& s) {
    put(out, static_cast<std::uint16_t>(s.size()));
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out.insert(out.end(), p, p + s.size());
}

// The hash, over `L` lanes with their own seeds in one pass: one lane for checks and
// fingerprints, two for a 128-bit key (computed for every result journaled).
template <std::size_t L>
std::array<std::uint64_t, L> hash_lanes(std::span<const std::byte> data,
                                        const std::array<std::uint64_t, L>& seeds) {
    const std::byte* p = data.data();
    std::size_t n = data.size();
    std::array<std::uint64_t, L> h;
    for (std::size_t i = 0; i < L; ++i) h[i] = seeds[i] ^ fold(seeds[i] ^ k0, k1) ^ n;
    for (; n >= 16; p += 16, n -= 16)
        for (auto& lane : h) lane = fold(load64(p) ^ k1 ^ lane, load64(p + 8) ^ k2);
    std::byte tail[16] = {};
    if (n > 0) std::memcpy(tail, p, n);
    for (auto& lane : h) {
        lane = fold(load64(tail) ^ k1 ^ lane, load64(tail + 8) ^ k2 ^ n);
        lane = fold(lane ^ k0, data.size() ^ k3);
    }
    return h;
}

std::uint32_t check32(std::span<const std::byte> data) {
    return static_cast<std::uint32_t>(hash_lanes<1>(data, {k3})[0]);
}

}  // namespace

std::uint64_t hash64(std::span<const std::byte> data, std::uint64_t seed) {
    return hash_lanes<1>(data, {seed})[0];
}

std::uint64_t hash64(std::string_view text, std::uint64_t seed) {
    return hash64(std::as_bytes(std::span(text.data(), text.size())), seed);
}

key128 key_of(std::uint64_t name_hash, std::span<const std::byte> args, std::uint64_t salt_hash) {
    const auto h = hash_lanes<2>(
        args, {fold(name_hash ^ k0, salt_hash ^ k1), fold(name_hash ^ k2, salt_hash ^ k3)});
    return {h[0], h[1]};
}

void append_header(bytes& out, const header& h) {
    const auto start = out.size();
    const auto* m = reinterpret_cast<const std::byte*>(magic);
    out.insert(out.end(), m, m + sizeof magic);
    put(out, version);
    const auto size_at = out.size();
    put(out, std::uint32_t{0});  // the header's size, once known
    put(out, h.task_set);
    put(out, h.salt_hash);
    put_text(out, h.program.size() > 1000 ? h.program.substr(0, 1000) : h.program);
    put_text(out, h.salt);
    const auto size = static_cast<std::uint32_t>(out.size() - start + 4);
    std::memcpy(out.data() + size_at, &size, 4);
    put(out, check32(std::span(out).subspan(start)));
}

header read_header(std::span<const std::byte> file, std::size_t& size) {
    if (file.size() < sizeof magic || std::memcmp(file.data(), magic, sizeof magic) != 0)
        throw format_error("it is not a tide journal (no TIDEJRNL at its start)");
    constexpr std::size_t fixed = sizeof magic + 4 + 4 + 8 + 8;
    if (file.size() < fixed + 2 + 2 + 4) throw format_error("its header is cut short");
    const std::uint32_t v = load32(file.data() + 8);
    if (v != version)
        throw format_error("it is of format version " + std::to_string(v) +
                           ", this build reads version " + std::to_string(version));
    const std::uint32_t claimed = load32(file.data() + 12);
    if (claimed < fixed + 2 + 2 + 4 || claimed > file.size())
        throw format_error("its header's size field is damaged");
    const auto head = file.first(claimed);
    if (load32(head.data() + claimed - 4) != check32(head.first(claimed - 4)))
        throw format_error("its header fails its check (damaged)");
    header h;
    h.task_set = load64(head.data() + 16);
    h.salt_hash = load64(head.data() + 24);
    std::size_t at = fixed;
    for (std::string* text : {&h.program, &h.salt}) {
        std::uint16_t n = 0;
        std::memcpy(&n, head.data() + at, 2);
        at += 2;
        if (at + n + 4 > claimed) throw format_error("its header's texts are damaged");
        text->assign(reinterpret_cast<const char*>(head.data() + at), n);
        at += n;
    }
    size = claimed;
    return h;
}

std::uint32_t payload_check(std::span<const std::byte> payload) { return check32(payload); }

void append_record_head(bytes& out, const key128& key, std::uint32_t length,
                        std::uint32_t payload_check) {
    // One resize, then the fields in place: this runs for every result journaled.
    const auto start = out.size();
    out.resize(start + record_head_size);
    std::byte* p = out.data() + start;
    std::memcpy(p, &length, 4);
    std::memcpy(p + 4, &payload_check, 4);
    std::memcpy(p + 8, &key.hi, 8);
    std::memcpy(p + 16, &key.lo, 8);
    const std::uint32_t head_check = check32(std::span(p, 24));
    std::memcpy(p + 24, &head_check, 4);
}

void append_record(bytes& out, const key128& key, std::span<const std::byte> payload) {
    append_record_head(out, key, static_cast<std::uint32_t>(payload.size()), check32(payload));
    out.insert(out.end(), payload.begin(), payload.end());
}

std::optional<record_view> read_record(std::span<const std::byte> file, std::size_t offset) {
    if (offset > file.size() || file.size() - offset < record_head_size) return std::nullopt;
    const std::byte* p = file.data() + offset;
    if (load32(p + 24) != check32(std::span(p, 24))) return std::nullopt;
    const std::uint32_t length = load32(p);
    if (length > file.size() - offset - record_head_size) return std::nullopt;
    const auto payload = std::span(p + record_head_size, length);
    if (load32(p + 4) != payload_check(payload)) return std::nullopt;
    return record_view{{load64(p + 8), load64(p + 16)}, payload};
}

std::optional<std::size_t> next_good_record(std::span<const std::byte> file, std::size_t from) {
    // A head that checks gives the record's end: the likeliest place for the next one (a
    // damaged payload).
    if (from + record_head_size <= file.size()) {
        const std::byte* p = file.data() + from;
        if (load32(p + 24) == check32(std::span(p, 24))) {
            const std::size_t end = from + record_head_size + load32(p);
            if (end < file.size() && read_record(file, end)) return end;
        }
    }
    for (std::size_t at = from + 1; at + record_head_size <= file.size(); ++at)
        if (read_record(file, at)) return at;
    return std::nullopt;
}

}  // namespace tide::detail::journal_format
