#pragma once
// How long an idle loop waits before polling again. First quick polls — spinning ones (a reply
// is often microseconds away, and sched_yield costs a microsecond or more on a VM), then ones
// that yield the core (other ranks may share it); then sleeps proportional to how long the loop has
// already been idle, between a floor and a cap. Proportional, not doubling: a sleep is never longer
// than a fixed fraction of the quiet spell before it, so the latency it adds stays a bounded
// fraction of the gap however the two sides of a conversation get out of step (doubling let both
// sides of a ping-pong escalate to the cap after one scheduling hiccup, costing 16 ms round trips
// on a busy 2-core machine). A rank idle for long still sleeps at the cap and costs almost no CPU.
//
// A loop that waits for one result whose arrival it can predict (a task of known duration, alone
// on its worker) says so, and the sleeps bend around that moment: none runs past the start of a
// short window around it, the window is polled without sleeping, and past it the sleeps grow
// with the lateness, not with the whole wait. Sleeping alone cannot give both: proportional
// sleeps cost a fixed fraction of the wait (at the 5 ms cap, milliseconds for any task over
// 20 ms), and fine-grained ones cost a poll's CPU every few microseconds for the whole task.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>

namespace tide::sched {

// What an idle loop does before its next poll.
enum class idle_action { spin, yield, sleep };

// When a result is expected: `at`, give or take `spread`.
struct expected_result {
    std::chrono::steady_clock::time_point at;
    std::chrono::steady_clock::duration spread;
};

// The expectation for a task expected to take `seconds_s` (with variance `variance_s2`, in
// seconds) started at `start`: two standard deviations either side, at least `floor` (a
// message's way and a thread's wake-up), at most a sixteenth of the task (the window is
// polled hot).
inline expected_result expect_task(
    std::chrono::steady_clock::time_point start, double seconds_s, double variance_s2,
    std::chrono::steady_clock::duration floor = std::chrono::microseconds(50)) {
    using seconds = std::chrono::duration<double>;
    const auto cast = [](double s) {
        return std::chrono::round<std::chrono::steady_clock::duration>(seconds(s));
    };
    const auto widest = std::max(floor, cast(seconds_s / 16));
    return {start + cast(seconds_s),
            std::clamp(cast(2 * std::sqrt(std::max(variance_s2, 0.0))), floor, widest)};
}

// Past the window, a pause is at most this fraction of the lateness so far.
inline constexpr unsigned late_ratio = 16;
// The last pause before the window ends early by what a sleep may overrun: on a virtual
// machine a thread wakes up to about 0.1 ms after its time.
inline constexpr auto wake_lateness = std::chrono::microseconds(100);

// How long a loop that would otherwise pause `usual` may pause before polling again when a
// result is due at `e`: zero inside the window (poll now), up to its opening before it, and a
// pause that grows with the lateness after it, between `shortest` and `longest`.
inline std::chrono::steady_clock::duration pause_before(
    const expected_result& e, std::chrono::steady_clock::time_point now,
    std::chrono::steady_clock::duration usual, std::chrono::steady_clock::duration shortest,
    std::chrono::steady_clock::duration longest) {
    const auto closes = e.at + e.spread;
    if (now >= closes) return std::clamp((now - closes) / late_ratio, shortest, longest);
    const auto hot_from = e.at - e.spread - wake_lateness;
    if (now + shortest >= hot_from) return std::chrono::steady_clock::duration::zero();
    return std::min(usual, hot_from - now);
}

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
    // (the quick polls before it last microseconds). With `expected`, the loop waits for a
    // result due then (see the top of this file).
    step next(clock::time_point now, const expected_result* expected = nullptr) {
        if (idle_polls_ < quick_polls_) {
            ++idle_polls_;
            return {idle_polls_ <= spin_polls_ ? idle_action::spin : idle_action::yield, {}};
        }
        if (!idle_since_) idle_since_ = now;
        const auto usual = std::clamp((now - *idle_since_) / ratio_, min_sleep_, max_sleep_);
        if (!expected) return {idle_action::sleep, usual};
        const auto pause = pause_before(*expected, now, usual, min_sleep_, max_sleep_);
        if (pause == duration::zero()) return {idle_action::yield, {}};
        return {idle_action::sleep, pause};
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
