#include "tide/scheduler/scaling_policy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tide::sched {

namespace {
struct census {
    std::size_t starting = 0, active = 0, parked = 0, busy = 0;
};
census count(const scaling_input& in) {
    census c;
    for (const auto& w : in.workers) {
        if (w.phase == worker_phase::starting) ++c.starting;
        if (w.phase == worker_phase::parked) ++c.parked;
        if (w.phase == worker_phase::active) {
            ++c.active;
            if (!w.idle) ++c.busy;
        }
    }
    return c;
}

std::string describe(const char* what, const scaling_input& in, const census& c, std::size_t wanted,
                     double target) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s: backlog %.3f s in %zu queued task(s), target %.3f s a worker, wants %zu; "
                  "active %zu (busy %zu), starting %zu, parked %zu",
                  what, in.backlog_seconds, in.queued_tasks, target, wanted, c.active, c.busy,
                  c.starting, c.parked);
    return line;
}
// What the decision does, for the reason line (the timeline keeps only the reason).
std::string outcome(const scaling_decision& d) {
    char line[128];
    std::snprintf(line, sizeof line, " => wake %zu, spawn %zu, park %zu, retire %zu", d.wake,
                  d.spawn, d.park.size(), d.retire.size());
    return line;
}
}  // namespace

std::size_t scaling_policy::wanted(const scaling_input& in) const {
    const census c = count(in);
    std::size_t by_backlog = 0;
    if (in.backlog_seconds > 0 && s_.target_backlog > 0)
        by_backlog = static_cast<std::size_t>(std::ceil(in.backlog_seconds / s_.target_backlog));
    else if (in.queued_tasks > 0)
        by_backlog = in.queued_tasks;  // no durations known yet: one worker a task, up to max
    const std::size_t want = std::max(c.busy, by_backlog);
    return std::clamp(want, s_.min_workers, std::max(s_.min_workers, s_.max_workers));
}

std::size_t scaling_policy::worth_spawning(const scaling_input& in, std::size_t capacity) const {
    // Durations unknown, or no spawn measured yet: the queue is all there is to go by.
    if (in.backlog_seconds <= 0 || in.spawn_seconds <= 0 || s_.target_backlog <= 0)
        return in.slots_free;
    const double left = in.backlog_seconds - static_cast<double>(capacity) * in.spawn_seconds;
    if (left <= 0) return 0;
    const auto by_left = static_cast<std::size_t>(std::ceil(left / s_.target_backlog));
    return by_left > capacity ? by_left - capacity : 0;
}

void scaling_policy::spawn_failed(double now) {
    backoff_ = backoff_ < 0 ? s_.cooldown : backoff_ * 2;
    spawn_blocked_until_ = now + backoff_;
}

scaling_decision scaling_policy::tick(const scaling_input& in) {
    scaling_decision d;
    const census c = count(in);
    const std::size_t want = wanted(in);
    const std::size_t capacity = c.active + c.starting;

    // Grow: wake parked workers at once (cheap and reliable: a burst must not wait, and
    // parking is what is slow), spawn for the rest only once the wish has held.
    if (want > capacity) {
        shrink_ticks_ = 0;
        ++grow_ticks_;
        std::size_t need = want - capacity;
        d.wake = std::min(need, c.parked);
        need -= d.wake;
        // With no worker at all there is nothing to flap with: spawn at once.
        const bool held = grow_ticks_ >= s_.hold_ticks || capacity + c.parked == 0;
        // A spawn that would be up only after the job's end is no use (the measured latency;
        // before any spawn, only a job already over stops it).
        const bool in_time = in.seconds_left > in.spawn_seconds;
        // Below the minimum (a worker was lost, or none has started yet), with tasks waiting,
        // a spawn replaces it whatever the backlog's estimate says. With nothing queued it
        // waits for work, as any spawn does: a spawn is not free (Open MPI's can hang).
        const std::size_t below_min = s_.min_workers > capacity + d.wake && in.queued_tasks > 0
                                          ? s_.min_workers - capacity - d.wake
                                          : 0;
        if (need > 0 && held && in_time && !in.spawn_in_flight && in.now >= spawn_blocked_until_)
            d.spawn = std::min(
                need, std::min(in.slots_free, std::max(below_min, worth_spawning(in, capacity))));
        if (!d.empty()) {
            grow_ticks_ = 0;
            d.reason = describe("grow", in, c, want, s_.target_backlog);
            if (in.spawn_seconds > 0) {
                char latency[64];
                std::snprintf(latency, sizeof latency, ", spawn latency %.3f s", in.spawn_seconds);
                d.reason += latency;
            }
            if (std::isfinite(in.seconds_left)) {
                char left[64];
                std::snprintf(left, sizeof left, ", job ends in %.1f s", in.seconds_left);
                d.reason += left;
            }
            d.reason += outcome(d);
        }
        return d;
    }
    grow_ticks_ = 0;

    // Shrink: park workers idle long enough, while the backlog stays well below what the
    // workers left could carry, and never below the minimum.
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < in.workers.size(); ++i) {
        const auto& w = in.workers[i];
        if (w.phase == worker_phase::active && w.idle && w.idle_for >= s_.idle_park)
            candidates.push_back(i);
    }
    // Spawned workers first (parked, they can retire and free their slot), longest idle first.
    std::sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
        const auto &x = in.workers[a], &y = in.workers[b];
        if (x.spawned != y.spawned) return x.spawned;
        if (x.idle_for != y.idle_for) return x.idle_for > y.idle_for;
        return a < b;
    });
    std::size_t active_left = c.active;
    if (!candidates.empty()) {
        if (++shrink_ticks_ >= s_.hold_ticks) {
            for (const auto i : candidates) {
                // Never below the minimum, nor below what the input wants (tasks waiting with
                // no durations known yet would wake the worker again at the next tick).
                if (active_left <= s_.min_workers || active_left - 1 < want) break;
                const double could_carry =
                    static_cast<double>(active_left - 1) * s_.target_backlog * s_.shrink_ratio;
                if (in.backlog_seconds > could_carry) break;
                d.park.push_back(i);
                --active_left;
            }
            shrink_ticks_ = 0;
        }
    } else {
        shrink_ticks_ = 0;
    }

    // Retire: spawned workers parked much longer, unless the backlog would call them back.
    if (want <= active_left)
        for (std::size_t i = 0; i < in.workers.size(); ++i) {
            const auto& w = in.workers[i];
            if (w.phase == worker_phase::parked && w.spawned && w.idle_for >= s_.idle_retire)
                d.retire.push_back(i);
        }
    if (!d.empty()) d.reason = describe("shrink", in, c, want, s_.target_backlog) + outcome(d);
    return d;
}

}  // namespace tide::sched
