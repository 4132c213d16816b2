#pragma once
// When to grow past the allocation: the satellite policy, pure. A satellite is a batch job of
// workers that joins the run from an allocation of its own; asking for one costs a queue wait
// before it starts and a join after. Each tick the policy sees the backlog, the pool and the
// satellites, and answers: submit one, cancel these queued ones, retire these idle ones, and why.
//
// - Submit only when the backlog per active worker outlasts the expected queue wait plus the
//   join (the work would otherwise be done before the satellite helps), the wish has held for a
//   few ticks, and nothing cheaper is at hand: no parked worker to wake, no free slot in the
//   allocation and no spawn in flight. Never a satellite that would start after the job's end,
//   nor one whose time limit cannot fit the longest queued task.
// - At most `max_queued` waiting in the batch queue at once, `max_satellites` in all, and
//   `max_nodes` nodes over all of them (one still ending counts: it holds its nodes).
// - Cancel queued satellites once the backlog no longer calls for them (with hysteresis).
// - Retire a running satellite whose workers have all been idle for `idle_retire` seconds: its
//   job ends and its nodes go back to the batch system.
// - Failures back off, doubling (from the start again once a satellite joined); 10 failed
// submissions
//   or 3 failed starts in a row pause the policy for the rest of the run (as HyperQueue's
//   autoalloc does).
// Every decision, and every wish that a rule blocks, comes with its reason.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tide::sched {

struct satellite_settings {
    std::size_t max_satellites = 0;  // at once, queued or running (0: satellites off)
    std::size_t max_queued = 1;      // submitted and not started yet
    std::size_t max_nodes = 0;       // over all satellites (0: no limit beyond max_satellites)
    std::size_t nodes_each = 1;      // nodes one satellite asks for
    // One satellite's time limit in seconds (what its batch options ask for; infinite if none).
    double time_limit = std::numeric_limits<double>::infinity();
    double idle_retire = 30;  // seconds all of a satellite's workers are idle before it retires
    int hold_ticks = 3;       // ticks a wish to submit or cancel must last
    // Cancel queued satellites once the backlog per active worker is below this share of the
    // expected wait plus join: the gap to the submit threshold is the hysteresis.
    double cancel_ratio = 0.5;
    double backoff = 5;        // seconds without submitting after a failure (doubles)
    double max_backoff = 300;  // the doubling stops here
    int max_failed_submissions = 10;
    int max_failed_starts = 3;
    double wait_weight = 0.3;  // of each new observed queue wait in the running estimate
};

enum class satellite_state {
    queued,   // submitted, not started
    joining,  // its job started; its workers are joining the run
    running,  // its workers joined
    retiring  // told to end, or cancelled; its job is ending
};

struct satellite_view {
    std::uint64_t id = 0;
    satellite_state state = satellite_state::queued;
    bool idle = false;    // running, and every worker of it idle or parked
    double idle_for = 0;  // since when all of them are
};

struct satellite_input {
    double now = 0;
    double backlog_seconds = 0;    // work queued, estimated (the load estimator's total)
    std::size_t queued_tasks = 0;  // tasks waiting anywhere
    std::size_t active_workers = 0;
    std::size_t parked_workers = 0;
    std::size_t slots_free = 0;  // workers the allocation itself may still start
    bool spawn_in_flight = false;
    double longest_task = 0;  // seconds, the longest queued task's estimate (0: unknown)
    double join_seconds = 0;  // a satellite's start-up once its job runs (0: none seen yet)
    // Until the job's own time limit; infinite when there is none.
    double seconds_left = std::numeric_limits<double>::infinity();
    std::vector<satellite_view> satellites;
};

struct satellite_decision {
    bool submit = false;
    std::vector<std::uint64_t> cancel;  // queued satellites to take out of the batch queue
    std::vector<std::uint64_t> retire;  // running satellites to end
    std::string reason;                 // the numbers behind it; empty when nothing changes
    bool empty() const { return !submit && cancel.empty() && retire.empty(); }
};

class satellite_policy {
public:
    explicit satellite_policy(satellite_settings settings) : s_(settings) {}

    satellite_decision tick(const satellite_input& in);

    // What the runtime saw happen.
    void submitted(double now, bool ok);
    void started(double waited);  // a satellite's job started after `waited` seconds queued
    void joined() {
        failed_starts_ = 0;
        backoff_ = -1;
    }
    // A satellite's job ended, or its workers could not join, before it ever ran a task.
    void start_failed(double now);

    // The expected queue wait: the batch system's own guess until a satellite has started,
    // then a running average of the waits seen.
    void guess_wait(double seconds) {
        if (!waits_seen_) wait_ = seconds;
    }
    double expected_wait() const { return wait_; }
    // No more satellites in this run (what they join through is gone).
    void pause(std::string why) {
        if (!paused()) paused_why_ = std::move(why);
    }
    bool paused() const { return !paused_why_.empty(); }
    const std::string& paused_why() const { return paused_why_; }
    const satellite_settings& settings() const { return s_; }

private:
    void back_off(double now);
    satellite_settings s_;
    int submit_ticks_ = 0;
    int cancel_ticks_ = 0;
    double wait_ = 0;
    bool waits_seen_ = false;
    int failed_submissions_ = 0;
    int failed_starts_ = 0;
    double backoff_ = -1;
    double blocked_until_ = 0;
    std::string paused_why_;
    std::string last_blocked_;  // the last reason a wish was blocked, said once until it changes
};

}  // namespace tide::sched
