// The elastic policy against synthetic load traces: a small simulation in which active workers
// each clear 0.1 s of backlog per 0.1 s tick, spawned workers start after three ticks, and
// the policy's decisions are applied as the runtime applies them. Each trace checks that the
// pool follows the work without flapping.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "tide/scheduler/scaling_policy.hpp"

using namespace tide::sched;

namespace {

constexpr double tick = 0.1;

struct simulation {
    explicit simulation(policy_settings s, std::size_t static_workers = 0) : policy(s) {
        for (std::size_t i = 0; i < static_workers; ++i)
            workers.push_back({worker_phase::active, false, true, 0});
    }

    // One tick: `arriving` seconds of work join the backlog, workers clear what they can, the
    // policy decides, and its decision is applied.
    void step(double arriving) {
        now += tick;
        backlog += arriving;
        std::size_t active = 0;
        for (const auto& w : workers) active += w.phase == worker_phase::active;
        const double served = std::min(backlog, static_cast<double>(active) * tick);
        backlog -= served;
        auto busy = static_cast<std::size_t>(std::ceil(served / tick - 1e-9));
        for (std::size_t i = 0; i < workers.size(); ++i) {
            auto& w = workers[i];
            if (w.phase == worker_phase::starting && ++start_ticks[i] >= 3) {
                w.phase = worker_phase::active;
                w.idle = true;
                w.idle_for = 0;
            }
            if (w.phase == worker_phase::active) {
                w.idle = busy == 0;
                if (busy > 0) --busy;
                w.idle_for = w.idle ? w.idle_for + tick : 0;
            } else if (w.phase == worker_phase::parked) {
                w.idle_for += tick;
            }
        }
        scaling_input in;
        in.now = now;
        in.backlog_seconds = backlog;
        in.queued_tasks = static_cast<std::size_t>(std::ceil(backlog / 0.005));
        in.workers = workers;
        in.slots_free = policy.settings().max_workers - workers.size();
        in.spawn_in_flight = std::any_of(workers.begin(), workers.end(), [](const worker_view& w) {
            return w.phase == worker_phase::starting;
        });
        in.spawn_seconds = spawns > 0 ? 3 * tick : 0;  // measured once a spawn has been seen
        apply(policy.tick(in));
        std::size_t working = 0;
        for (const auto& w : workers) working += w.phase != worker_phase::parked;
        history.push_back(working);
    }

    void apply(const scaling_decision& d) {
        if (d.empty()) return;
        ++events;
        EXPECT_FALSE(d.reason.empty());
        for (std::size_t k = 0, woken = 0; k < workers.size() && woken < d.wake; ++k)
            if (workers[k].phase == worker_phase::parked) {
                workers[k] = {worker_phase::active, workers[k].spawned, true, 0};
                ++woken;
                ++wakes;
            }
        for (std::size_t k = 0; k < d.spawn; ++k) {
            workers.push_back({worker_phase::starting, true, false, 0});
            ++spawns;
        }
        for (auto i : d.park) {
            workers[i].phase = worker_phase::parked;
            workers[i].idle_for = 0;
            ++parks;
        }
        std::vector<std::size_t> gone(d.retire);
        std::sort(gone.rbegin(), gone.rend());
        for (auto i : gone) {
            workers.erase(workers.begin() + static_cast<long>(i));
            start_ticks.erase(start_ticks.begin() + static_cast<long>(i));
            ++retires;
        }
        start_ticks.resize(workers.size(), 0);
    }

    // `arriving(k)` is the work arriving at tick k of this run (k from 0).
    void run(int ticks, const std::function<double(int)>& arriving) {
        start_ticks.resize(workers.size(), 0);
        for (int k = 0; k < ticks; ++k) step(arriving(k));
    }

    std::size_t working() const { return history.empty() ? 0 : history.back(); }
    // How often the number of working (not parked) workers went down then up again.
    int reversals() const {
        int n = 0, last_direction = 0;
        for (std::size_t i = 1; i < history.size(); ++i) {
            const int d = history[i] > history[i - 1] ? 1 : history[i] < history[i - 1] ? -1 : 0;
            if (d != 0 && last_direction != 0 && d != last_direction) ++n;
            if (d != 0) last_direction = d;
        }
        return n;
    }

    scaling_policy policy;
    std::vector<worker_view> workers;
    std::vector<int> start_ticks;
    std::vector<std::size_t> history;
    double now = 0, backlog = 0;
    int events = 0, parks = 0, wakes = 0, spawns = 0, retires = 0;
};

policy_settings settings(std::size_t min, std::size_t max) {
    policy_settings s;
    s.min_workers = min;
    s.max_workers = max;
    s.target_backlog = 1.0;
    s.idle_park = 2.0;
    s.idle_retire = 10.0;
    return s;
}

}  // namespace

TEST(ScalingPolicy, SteadyLoadGrowsOnceAndHolds) {
    simulation sim(settings(0, 8));
    // 0.3 s of work a tick: three workers' worth; a backlog builds until they are up.
    sim.run(600, [](int) { return 0.3; });
    EXPECT_GE(sim.working(), 3u);
    EXPECT_LE(sim.working(), 8u);
    EXPECT_EQ(sim.parks, 0);
    EXPECT_EQ(sim.retires, 0);
    EXPECT_EQ(sim.reversals(), 0);
}

TEST(ScalingPolicy, RampOnlyGrows) {
    simulation sim(settings(0, 6));
    sim.run(300, [](int k) { return 0.002 * k; });  // demand rises to 6 workers' worth
    EXPECT_EQ(sim.working(), 6u);
    EXPECT_EQ(sim.parks, 0);
    EXPECT_EQ(sim.reversals(), 0);
    for (std::size_t i = 1; i < sim.history.size(); ++i)
        EXPECT_GE(sim.history[i], sim.history[i - 1]) << "tick " << i;
}

TEST(ScalingPolicy, RepeatedBurstsWakeParkedWorkersInsteadOfSpawning) {
    simulation sim(settings(0, 3));
    // 6 s of work arriving at once every 12 s, four times.
    sim.run(480, [](int k) { return k % 120 == 0 ? 6.0 : 0.0; });
    EXPECT_EQ(sim.spawns, 3);           // the first burst grows the pool once...
    EXPECT_GE(sim.wakes, 3 * 2);        // ...later bursts wake parked workers
    EXPECT_GE(sim.parks, 3 * 3);        // and between bursts they park
    EXPECT_EQ(sim.retires, 0);          // parked 10 s at most between bursts: not retired
    EXPECT_LE(sim.reversals(), 2 * 4);  // one up and one down a burst, no more
}

TEST(ScalingPolicy, SawtoothAroundTheTargetDoesNotFlap) {
    simulation sim(settings(2, 4), 2);
    // Demand alternates every tick around what two workers carry.
    sim.run(400, [](int k) { return k % 2 ? 0.25 : 0.15; });
    EXPECT_EQ(sim.events, 0);
    EXPECT_EQ(sim.working(), 2u);
}

TEST(ScalingPolicy, SingleLongTaskKeepsOneWorkerAndParksTheRest) {
    simulation sim(settings(0, 4), 4);
    // One task, always running: one worker busy, no queue.
    sim.run(300, [](int) { return tick; });
    EXPECT_EQ(sim.working(), 1u);
    EXPECT_EQ(sim.parks, 3);
    EXPECT_EQ(sim.spawns, 0);
    EXPECT_EQ(sim.reversals(), 0);
}

TEST(ScalingPolicy, IdleSpawnedWorkersRetireButStaticOnesOnlyPark) {
    simulation sim(settings(1, 3), 1);
    sim.run(20, [](int k) { return k == 0 ? 5.0 : 0.0; });
    EXPECT_EQ(sim.spawns, 2);
    sim.run(300, [](int) { return 0.0; });
    EXPECT_EQ(sim.retires, 2);
    ASSERT_EQ(sim.workers.size(), 1u);  // the static worker: the minimum, still active
    EXPECT_EQ(sim.workers[0].phase, worker_phase::active);
}

TEST(ScalingPolicy, AFailedSpawnBacksOffExponentially) {
    scaling_policy p(settings(0, 5));
    scaling_input in;
    in.backlog_seconds = 10;
    in.queued_tasks = 100;
    in.slots_free = 4;
    in.workers = {{worker_phase::active, false, false, 0}};
    in.now = 1;
    EXPECT_EQ(p.tick(in).spawn, 0u);
    EXPECT_EQ(p.tick(in).spawn, 4u);  // held two ticks
    p.spawn_failed(1.0);              // blocked until 3
    in.now = 2.5;
    p.tick(in);
    EXPECT_EQ(p.tick(in).spawn, 0u);
    in.now = 3.1;
    EXPECT_EQ(p.tick(in).spawn, 4u);
    p.spawn_failed(3.1);  // now 4 s: blocked until 7.1
    in.now = 6.9;
    p.tick(in);
    EXPECT_EQ(p.tick(in).spawn, 0u);
    in.now = 7.2;
    EXPECT_EQ(p.tick(in).spawn, 4u);
}

TEST(ScalingPolicy, NeverBelowMinNorAboveMax) {
    simulation sim(settings(2, 3), 2);
    sim.run(100, [](int) { return 0.4; });  // four workers' worth for 10 s
    EXPECT_EQ(sim.working(), 3u);
    sim.run(400, [](int) { return 0.0; });
    EXPECT_EQ(sim.working(), 2u);
    for (auto n : sim.history) {
        EXPECT_GE(n, 2u);
        EXPECT_LE(n, 3u);
    }
}

// Tasks waiting before any duration is known: the idle worker is wanted, so it is not parked
// (else it would be woken again at the next tick, and again: a park/wake cycle).
TEST(ScalingPolicy, NoParkWhileQueuedTasksWantTheWorker) {
    scaling_policy p(settings(0, 2));
    scaling_input in;
    in.queued_tasks = 5;  // backlog 0: no durations yet
    in.workers = {{worker_phase::active, false, false, 0}, {worker_phase::active, false, true, 9}};
    for (int tick = 0; tick < 10; ++tick) EXPECT_TRUE(p.tick(in).park.empty()) << tick;
}

// With no worker at all (a singleton at its first burst) nothing can flap: spawn at once, for
// the queue, since no duration is known yet.
TEST(ScalingPolicy, NoWorkerAtAllSpawnsAtOnce) {
    scaling_policy p(settings(0, 3));
    scaling_input in;
    in.queued_tasks = 10;
    in.slots_free = 3;
    const auto d = p.tick(in);
    EXPECT_EQ(d.spawn, 3u);
    EXPECT_NE(d.reason.find("grow"), std::string::npos);
    EXPECT_NE(d.reason.find("spawn 3"), std::string::npos) << d.reason;
}

// A spawn pays off only for work still there when the new worker is up: the two busy workers
// clear 2 x latency seconds of the backlog meanwhile.
TEST(ScalingPolicy, SpawnLatencyLimitsSpawnsToWorkLeftWhenTheyArrive) {
    const auto spawned = [](double latency) {
        scaling_policy p(settings(0, 8));
        scaling_input in;
        in.backlog_seconds = 5;
        in.queued_tasks = 500;
        in.slots_free = 6;
        in.spawn_seconds = latency;
        in.workers = {{worker_phase::active, false, false, 0},
                      {worker_phase::active, false, false, 0}};
        p.tick(in);
        return p.tick(in).spawn;
    };
    EXPECT_EQ(spawned(0), 3u);    // unmeasured: the backlog alone, 5 workers' worth
    EXPECT_EQ(spawned(0.5), 2u);  // 4 s left when they arrive
    EXPECT_EQ(spawned(2.4), 0u);  // 0.2 s left: the two workers finish it themselves
}

// The backoff doubles only while spawns keep failing: a success in between starts it afresh.
TEST(ScalingPolicy, BackoffStartsAfreshAfterASuccessfulSpawn) {
    scaling_policy p(settings(0, 4));
    p.spawn_failed(0);  // cooldown 2 s
    p.spawn_failed(2);  // 4 s
    EXPECT_TRUE(p.spawn_blocked(5.9));
    p.spawn_succeeded();
    p.spawn_failed(10);  // 2 s again, not 8
    EXPECT_TRUE(p.spawn_blocked(11.9));
    EXPECT_FALSE(p.spawn_blocked(12.1));
}

// A spawn that would be up only after the job's end is not started; waking a parked worker,
// which takes milliseconds, still happens.
TEST(ScalingPolicy, NoSpawnThatCannotBeUpBeforeTheEnd) {
    const auto decide = [](double seconds_left, std::size_t parked) {
        scaling_policy p(settings(0, 4));
        scaling_input in;
        in.backlog_seconds = 8;
        in.queued_tasks = 80;
        in.slots_free = 4 - parked;
        in.spawn_seconds = 0.5;
        in.seconds_left = seconds_left;
        for (std::size_t i = 0; i < parked; ++i)
            in.workers.push_back({worker_phase::parked, true, false, 1});
        p.tick(in);
        return p.tick(in);
    };
    EXPECT_EQ(decide(60, 0).spawn, 4u);
    EXPECT_NE(decide(60, 0).reason.find("job ends in 60.0 s"), std::string::npos);
    EXPECT_EQ(decide(0.4, 0).spawn, 0u);  // up at 0.5 s, the job ends at 0.4 s
    EXPECT_TRUE(decide(0.4, 0).empty());
    const auto d = decide(0.4, 1);
    EXPECT_EQ(d.wake, 1u);
    EXPECT_EQ(d.spawn, 0u);
}

// Below the minimum (workers lost with a node), with tasks queued, the missing workers are
// spawned again even when the backlog alone would not pay for a spawn: the minimum is what the
// user asked to keep.
TEST(ScalingPolicy, WorkersLostBelowTheMinimumAreReplacedWhateverTheBacklog) {
    scaling_policy p(settings(4, 6));
    scaling_input in;
    in.backlog_seconds = 0.1;  // far too little to pay for a spawn of 2 s
    in.queued_tasks = 2;
    in.slots_free = 4;
    in.spawn_seconds = 2;
    in.workers = {{worker_phase::active, true, false, 0}, {worker_phase::active, true, false, 0}};
    p.tick(in);
    EXPECT_EQ(p.tick(in).spawn, 2u);  // back to 4, not to the 6 allowed
    // At the minimum, the same backlog spawns nothing.
    in.workers.push_back({worker_phase::active, true, false, 0});
    in.workers.push_back({worker_phase::active, true, false, 0});
    p.tick(in);
    EXPECT_EQ(p.tick(in).spawn, 0u);
    // Below it with nothing queued: no spawn until work comes.
    scaling_policy idle(settings(4, 6));
    in.workers.resize(2);
    in.queued_tasks = 0;
    idle.tick(in);
    EXPECT_EQ(idle.tick(in).spawn, 0u);
}
