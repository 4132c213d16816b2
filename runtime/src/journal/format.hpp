#pragma once
// The bytes of a result journal (--tide-journal), with nothing of files or threads in it:
// journal.cpp reads and writes them. All integers are little-endian.
//
//   header   "TIDEJRNL" | u32 version | u32 header size | u64 task set | u64 salt hash |
//            u16 length + program name | u16 length + salt | u32 check of all before it
//   record   u32 payload length | u32 payload check | u64 key.hi | u64 key.lo |
//            u32 check of the 24 bytes before it | payload
//
// The record's length sits under a check of its own (the head check), apart from the payload's:
// a length damaged in the middle of the file is then recognised as damage, never trusted to
// skip (or allocate) what it claims, nor mistaken for the torn end of a crashed run.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "tide/detail/serialize.hpp"

namespace tide::detail::journal_format {

inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t record_head_size = 28;

// A seeded 64-bit hash: the keys, the checks and the task set's fingerprint.
std::uint64_t hash64(std::span<const std::byte> data, std::uint64_t seed);
std::uint64_t hash64(std::string_view text, std::uint64_t seed = 0);

// What a journal knows a task by: its registered name, the exact bytes of its arguments and the
// run's salt. 128 bits, so that 100 million results collide with a chance of about 1 in 10^22.
struct key128 {
    std::uint64_t hi = 0, lo = 0;
    auto operator<=>(const key128&) const = default;
};
key128 key_of(std::uint64_t name_hash, std::span<const std::byte> args, std::uint64_t salt_hash);

struct header {
    std::uint64_t task_set = 0;  // fingerprint of the program's registered tasks
    std::uint64_t salt_hash = 0;
    std::string program;  // for messages only
    std::string salt;
};

// A journal's bytes that are not what they should be: the reason, for the error message.
struct format_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void append_header(bytes& out, const header& h);
// The header at the start of `file` and its size; throws format_error for anything that is not
// a whole, checked header of a version this build reads.
header read_header(std::span<const std::byte> file, std::size_t& size);

void append_record(bytes& out, const key128& key, std::span<const std::byte> payload);
// The head of a record alone, its length as given (a test makes one that lies).
void append_record_head(bytes& out, const key128& key, std::uint32_t length,
                        std::uint32_t payload_check);
std::uint32_t payload_check(std::span<const std::byte> payload);

struct record_view {
    key128 key;
    std::span<const std::byte> payload;
    std::size_t size() const { return record_head_size + payload.size(); }
};
// The record at `offset` if it is whole and both its checks hold.
std::optional<record_view> read_record(std::span<const std::byte> file, std::size_t offset);

// What a scan of the records found.
struct scan_summary {
    std::uint64_t records = 0;
    // Where the good records end: the rest of the file (torn_bytes of it) is the torn last
    // record of a run that was killed while writing it, or zeros after it.
    std::uint64_t good_end = 0;
    std::uint64_t torn_bytes = 0;
    // Damage before good records: where the first damaged span starts, and all damaged bytes.
    std::optional<std::uint64_t> damaged_at;
    std::uint64_t damaged_bytes = 0;
};

// Walks the records from `start` (after the header), calling on_record(view, offset) for each
// good one. Bytes that are not a good record are damage if a good record follows them
// (skipped, to salvage what follows), else the torn tail.
template <class F>
scan_summary scan(std::span<const std::byte> file, std::size_t start, F&& on_record);

// The next offset after `from` where a good record starts, or none.
std::optional<std::size_t> next_good_record(std::span<const std::byte> file, std::size_t from);

template <class F>
scan_summary scan(std::span<const std::byte> file, std::size_t start, F&& on_record) {
    scan_summary s;
    std::size_t at = start;
    while (at < file.size()) {
        if (auto r = read_record(file, at)) {
            on_record(*r, at);
            ++s.records;
            at += r->size();
            s.good_end = at;
            continue;
        }
        const auto next = next_good_record(file, at);
        if (!next) break;
        if (!s.damaged_at) s.damaged_at = at;
        s.damaged_bytes += *next - at;
        at = *next;
    }
    if (s.good_end < start) s.good_end = start;
    s.torn_bytes = file.size() - s.good_end;
    return s;
}

}  // namespace tide::detail::journal_format
