#include "tide/scheduler/bulk_ranges.hpp"

#include <algorithm>

namespace tide::sched {

std::size_t range_size(const range_inputs& in) {
    std::size_t size = std::max<std::size_t>(1, in.prefetch / 2);
    const std::size_t shares = ranges_per_worker * std::max<std::size_t>(1, in.workers);
    size = std::min(size, std::max<std::size_t>(1, in.tasks / shares));
    if (in.mean_seconds && *in.mean_seconds > 0) {
        const double by_time = range_seconds / *in.mean_seconds;
        if (by_time < static_cast<double>(size))
            size = std::max<std::size_t>(1, static_cast<std::size_t>(by_time));
    }
    return size;
}

}  // namespace tide::sched
