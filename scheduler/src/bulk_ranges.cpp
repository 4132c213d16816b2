#include "tide/scheduler/bulk_ranges.hpp"

#include <algorithm>

namespace tide::sched {

std::size_t range_size(const range_inputs& in) {
    std::size_t size = std::max<std::size_t>(1, in.prefetch / 2);
    if (in.mean_seconds) {
        const double seconds =
            std::max(range_seconds, rank0_headroom * rank0_range_seconds *
                                        static_cast<double>(std::max<std::size_t>(1, in.workers)));
        const double by_time =
            *in.mean_seconds > 0 ? seconds / *in.mean_seconds : static_cast<double>(max_range);
        size = static_cast<std::size_t>(std::clamp(by_time, 1.0, static_cast<double>(max_range)));
    }
    const std::size_t shares = ranges_per_worker * std::max<std::size_t>(1, in.workers);
    return std::max<std::size_t>(1, std::min(size, in.tasks / shares));
}

}  // namespace tide::sched
