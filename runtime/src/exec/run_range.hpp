#pragma once
// Runs the tasks of a packed range (a piece of a bulk submission) one after another, on a
// worker or on rank 0 alone, and packs their results.

#include <algorithm>
#include <chrono>
#include <span>

#include "exec/executor.hpp"
#include "tide/detail/packed_range.hpp"
#include "tide/detail/registry.hpp"
#include "tide/scheduler/outcome.hpp"

namespace tide::detail {

// A block of a range's tasks runs in one timed frame, each task counted with an equal share of
// its time: one clock read per block rather than per task (a read costs as much as a no-op
// task). Blocks grow to about this long once the tasks' length is seen.
inline constexpr double range_block_seconds = 20e-6;

// `frame(body, start, tasks)` runs `body` as one timed frame of `tasks` tasks from `start` and
// returns its end; `between(end)` runs after each block (a worker polls for messages there).
// `at` is when the range starts (a default time point if not known), and its end on return.
// The packed results hold a status per task only if one failed.
template <class Frame, class Between>
bytes run_range(std::uint64_t name_hash, std::uint64_t signature,
                std::span<const std::byte> packed_args, std::chrono::steady_clock::time_point& at,
                Frame&& frame, Between&& between) {
    const packed_view args(packed_args);
    const task_entry* entry = registry::instance().by_hash(name_hash);
    packed_writer results;
    std::uint32_t block = 1;
    for (std::uint32_t i = 0; i < args.size();) {
        const std::uint32_t n = std::min(block, args.size() - i);
        const auto start = at;
        at = frame(
            [&] {
                for (std::uint32_t j = i; j < i + n; ++j)
                    results.end_element(static_cast<std::uint8_t>(
                        execute(entry, signature, args.at(j), results.data())));
            },
            start, n);
        i += n;
        between(at);
        if (start != std::chrono::steady_clock::time_point{}) {
            const double each = std::chrono::duration<double>(at - start).count() / n;
            const double fit = each > 0 ? range_block_seconds / each : 2.0 * block;
            block = static_cast<std::uint32_t>(std::clamp(fit, 1.0, 1024.0));
        }
    }
    return results.finish(true);
}

}  // namespace tide::detail
