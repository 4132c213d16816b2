#include "tide/load.hpp"

#include <cstdio>

namespace tide {

std::string to_string(const steal_counters& s) {
    char line[384];
    std::snprintf(
        line, sizeof line,
        "steal_requests=%llu steal_orders=%llu steals=%llu same_host_steals=%llu "
        "cross_host_steals=%llu empty_steals=%llu tasks_moved=%llu steal_rtt_median_us=%.1f "
        "steal_rtt_max_us=%.1f",
        static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.orders),
        static_cast<unsigned long long>(s.steals), static_cast<unsigned long long>(s.same_host),
        static_cast<unsigned long long>(s.cross_host), static_cast<unsigned long long>(s.empty),
        static_cast<unsigned long long>(s.tasks_moved), s.round_trip_median_us,
        s.round_trip_max_us);
    return line;
}

}  // namespace tide
