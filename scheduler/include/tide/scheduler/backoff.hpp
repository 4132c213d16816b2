#pragma once
// How long an idle loop waits before polling again. First quick polls — spinning ones (a reply
// is often microseconds away, and sched_yield costs a microsecond or more on a VM), then ones
// that yield the core (other ranks may share it); then sleeps proportional to how long the loop has
// already been idle, between a floor and a cap. Proportional, not doubling: a sleep is never longer
// than a fixed fraction of the quiet spell before it, so the latency it adds stays a bounded
// fraction of the gap however the two sides of a conversation get out of step (doubling let both
// sides of a ping-pong escalate to the cap after one scheduling hiccup, costing 16 ms round trips
// on a busy 2-core machine). A rank idle for long still sleeps at the cap and costs almost no CPU.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

namespace tide::sched {

// What an idle loop does before its next poll.
enum class idle_action { spin, yield, sleep };

class idle_backoff {
public:
    using clock = std::chrono::steady_clock;
    using duration = clock::duration;

    struct step {
        idle_action action;
        duration sleep;  // for idle_action::sleep
    };

    // spin_polls of the quick_polls spin; the rest yield.
    idle_backoff(std::uint32_t spin_polls, std::uint32_t quick_polls, unsigned ratio,
                 duration min_sleep, duration max_sleep)
        : spin_polls_(spin_polls),
          quick_polls_(quick_polls),
          ratio_(ratio == 0 ? 1 : ratio),
          min_sleep_(min_sleep),
          max_sleep_(max_sleep) {}

    // Called after a poll that found something to do. Reads no clock: it is on the per-task
    // path.
    void reset() {
        idle_polls_ = 0;
        idle_since_.reset();
    }

    // True while the next step is a quick poll, whose `now` is not read.
    bool quick() const { return idle_polls_ < quick_polls_; }

    // Called after a poll that found nothing. The idle spell is timed from the first sleep
    // (the quick polls before it last microseconds).
    step next(clock::time_point now) {
        if (idle_polls_ < quick_polls_) {
            ++idle_polls_;
            return {idle_polls_ <= spin_polls_ ? idle_action::spin : idle_action::yield, {}};
        }
        if (!idle_since_) idle_since_ = now;
        return {idle_action::sleep,
                std::clamp((now - *idle_since_) / ratio_, min_sleep_, max_sleep_)};
    }

private:
    std::uint32_t spin_polls_;
    std::uint32_t quick_polls_;
    unsigned ratio_;
    duration min_sleep_;
    duration max_sleep_;
    std::uint32_t idle_polls_ = 0;
    std::optional<clock::time_point> idle_since_;  // first sleep since the last reset
};

}  // namespace tide::sched
