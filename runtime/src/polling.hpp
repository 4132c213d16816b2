#pragma once
// How every idle loop in the runtime polls: a couple of hundred quick polls (a reply is often
// microseconds away), then sleeps doubling from 20 us to 5 ms. Measured on the 2-core
// development machine, a rank idling at the 5 ms cap uses about 1% of a core (at a 1 ms cap,
// about 3%: each MPI poll runs Open MPI's whole progress engine); the price is up to 5 ms of
// extra latency for the first message after a long quiet spell.

#include <algorithm>
#include <chrono>
#include <thread>

#include "tide/scheduler/backoff.hpp"

namespace tide::detail {

inline sched::idle_backoff idle_polling() {
    return sched::idle_backoff(200, std::chrono::microseconds(20), std::chrono::milliseconds(5));
}

// Waits as the backoff says after a poll that found nothing, never past `deadline`.
inline void idle_pause(
    sched::idle_backoff& backoff,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max()) {
    const auto d = backoff.next();
    if (d == std::chrono::nanoseconds::zero()) {
        std::this_thread::yield();
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < deadline)
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(d, deadline - now));
}

}  // namespace tide::detail
