#include "tide/scheduler/satellite_policy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tide::sched {

namespace {

struct census {
    std::size_t queued = 0, started = 0;  // started: joining or running
    std::size_t retiring = 0;             // ending: their nodes are not given back yet
    std::vector<std::uint64_t> queued_ids;
};

census count(const satellite_input& in) {
    census c;
    for (const auto& s : in.satellites) {
        if (s.state == satellite_state::queued) {
            ++c.queued;
            c.queued_ids.push_back(s.id);
        }
        if (s.state == satellite_state::joining || s.state == satellite_state::running) ++c.started;
        if (s.state == satellite_state::retiring) ++c.retiring;
    }
    return c;
}

template <typename... A>
std::string format(const char* fmt, A... args) {
    char line[320];
    std::snprintf(line, sizeof line, fmt, args...);
    return line;
}

}  // namespace

void satellite_policy::back_off(double now) {
    backoff_ = backoff_ < 0 ? s_.backoff : std::min(backoff_ * 2, s_.max_backoff);
    blocked_until_ = now + backoff_;
}

void satellite_policy::submitted(double now, bool ok) {
    if (ok) {
        // Its start may still fail: the back-off starts again only once one has joined.
        failed_submissions_ = 0;
        return;
    }
    back_off(now);
    if (++failed_submissions_ >= s_.max_failed_submissions && !paused())
        paused_why_ = format("%d submissions in a row failed", failed_submissions_);
}

void satellite_policy::started(double waited) {
    wait_ = waits_seen_ ? (1 - s_.wait_weight) * wait_ + s_.wait_weight * waited : waited;
    waits_seen_ = true;
}

void satellite_policy::start_failed(double now) {
    back_off(now);
    if (++failed_starts_ >= s_.max_failed_starts && !paused())
        paused_why_ = format("%d satellites in a row failed to start", failed_starts_);
}

satellite_decision satellite_policy::tick(const satellite_input& in) {
    satellite_decision d;
    const census c = count(in);
    // From submitting to a satellite's first task; a second at least (a batch system does not
    // start a job faster), also before any wait is known.
    const double lead = std::max(wait_ + in.join_seconds, 1.0);
    const double per_worker =
        in.backlog_seconds / static_cast<double>(std::max<std::size_t>(in.active_workers, 1));
    const std::string numbers = format(
        "backlog %.1f s in %zu task(s) over %zu active worker(s) (%.1f s each), expected "
        "queue wait %.1f s + join %.1f s; satellites queued %zu, started %zu",
        in.backlog_seconds, in.queued_tasks, in.active_workers, per_worker, wait_, in.join_seconds,
        c.queued, c.started);

    // Retire: a running satellite whose workers have all been idle long enough.
    for (const auto& s : in.satellites)
        if (s.state == satellite_state::running && s.idle && s.idle_for >= s_.idle_retire)
            d.retire.push_back(s.id);

    // Cancel: queued satellites the backlog no longer calls for.
    const bool unwanted = in.queued_tasks == 0 || per_worker < s_.cancel_ratio * lead;
    if (c.queued > 0 && unwanted) {
        if (++cancel_ticks_ >= s_.hold_ticks) {
            d.cancel = c.queued_ids;
            cancel_ticks_ = 0;
        }
    } else {
        cancel_ticks_ = 0;
    }

    // Submit: the work per worker outlasts the wait for a satellite.
    const bool wanted = in.queued_tasks > 0 && in.backlog_seconds > 0 && per_worker > lead;
    submit_ticks_ = wanted ? submit_ticks_ + 1 : 0;
    std::string blocked;
    if (wanted) {
        // A satellite still ending holds its nodes: it counts against the limits.
        const std::size_t in_all = c.queued + c.started + c.retiring;
        if (paused())
            blocked = "paused: " + paused_why_;
        else if (in.parked_workers > 0)
            blocked = format("%zu worker(s) parked: waking them comes first", in.parked_workers);
        else if (in.slots_free > 0 || in.spawn_in_flight)
            blocked = "the allocation has room for more workers: spawning there comes first";
        else if (in_all >= s_.max_satellites)
            blocked = format("%zu satellite(s) already, the limit", in_all);
        else if (c.queued >= s_.max_queued)
            blocked = format("%zu satellite(s) queued already, the limit", c.queued);
        else if (s_.max_nodes > 0 && (in_all + 1) * s_.nodes_each > s_.max_nodes)
            blocked = format("another would take the satellites past %zu node(s)", s_.max_nodes);
        else if (in.seconds_left <= lead)
            blocked =
                format("the job ends in %.1f s, before a satellite could start", in.seconds_left);
        else if (in.longest_task > s_.time_limit)
            blocked = format(
                "the longest queued task (%.1f s) would not fit a satellite's time "
                "limit (%.1f s)",
                in.longest_task, s_.time_limit);
        else if (in.now < blocked_until_)
            blocked =
                format("backing off after a failure until %.1f s into the run", blocked_until_);
        // With no worker at all (rank 0 alone runs the work) there is nothing to flap with.
        else if (submit_ticks_ >= s_.hold_ticks || in.active_workers == 0) {
            d.submit = true;
            submit_ticks_ = 0;
        }
    }

    if (!d.empty()) {
        d.reason = numbers + format(" => submit %d, cancel %zu, retire %zu", d.submit ? 1 : 0,
                                    d.cancel.size(), d.retire.size());
        last_blocked_.clear();
    } else if (!blocked.empty() && blocked != last_blocked_) {
        // A blocked wish is said once, until the reason changes.
        d.reason = numbers + " => a satellite is wanted, but " + blocked;
        last_blocked_ = blocked;
    } else if (!wanted) {
        last_blocked_.clear();
    }
    return d;
}

}  // namespace tide::sched
