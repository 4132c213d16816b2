#pragma once
// How every idle loop in the runtime polls: 100 spinning polls, 100 that yield, then sleeps of a
// quarter of the time spent idle so far, between 10 us and 5 ms (see sched::idle_backoff for why
// proportional). Measured on the 2-core development machine, a rank idling at the 5 ms cap uses
// about 1% of a core (at a 1 ms cap, about 3%: every MPI poll runs Open MPI's whole progress
// engine). Sleeping threads ask the kernel for 1 us timer slack instead of the default 50 us, so
// a short sleep is short.

#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "tide/scheduler/backoff.hpp"

namespace tide::detail {

// Asks the kernel for 1 us timer slack on the calling thread instead of the default 50 us, so
// that a short sleep is short. Once per thread.
inline void use_precise_timers() {
    thread_local const bool precise = prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0) == 0;
    (void)precise;
}

inline sched::idle_backoff idle_polling() {
    return sched::idle_backoff(100, 200, 4, std::chrono::microseconds(10),
                               std::chrono::milliseconds(5));
}

// Waits as the backoff says after a poll that found nothing, never past `deadline`; around
// `expected` if the loop waits for a result it can predict.
inline void idle_pause(
    sched::idle_backoff& backoff,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
    const sched::expected_result* expected = nullptr) {
    // The clock is read only once the quick polls are over: a read can cost as much as a poll.
    const auto now = backoff.quick() ? std::chrono::steady_clock::time_point{}
                                     : std::chrono::steady_clock::now();
    const auto step = backoff.next(now, expected);
    switch (step.action) {
        case sched::idle_action::spin:
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
            return;
        case sched::idle_action::yield:
            std::this_thread::yield();
            return;
        case sched::idle_action::sleep:
            break;
    }
    use_precise_timers();
    if (now < deadline) std::this_thread::sleep_for(std::min(step.sleep, deadline - now));
}

}  // namespace tide::detail
