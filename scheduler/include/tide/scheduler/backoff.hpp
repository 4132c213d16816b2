#pragma once
// How long an idle loop waits before polling again. A few quick polls first (a reply is often a
// microsecond away), then sleeps that double up to a cap, so a rank with nothing to do costs
// almost no CPU, and a burst resets it to quick polling.

#include <chrono>
#include <cstdint>

namespace tide::sched {

class idle_backoff {
public:
    using duration = std::chrono::nanoseconds;

    idle_backoff(std::uint32_t quick_polls, duration first_sleep, duration max_sleep)
        : quick_polls_(quick_polls), first_sleep_(first_sleep), max_sleep_(max_sleep) {}

    // Called after a poll that found something to do.
    void reset() {
        idle_polls_ = 0;
        sleep_ = duration::zero();
    }

    // Called after a poll that found nothing: zero means poll again at once (yield only).
    duration next() {
        if (idle_polls_ < quick_polls_) {
            ++idle_polls_;
            return duration::zero();
        }
        sleep_ = sleep_ == duration::zero() ? first_sleep_ : std::min(sleep_ * 2, max_sleep_);
        return sleep_;
    }

private:
    std::uint32_t quick_polls_;
    duration first_sleep_;
    duration max_sleep_;
    std::uint32_t idle_polls_ = 0;
    duration sleep_ = duration::zero();
};

}  // namespace tide::sched
