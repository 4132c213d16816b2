// The satellite policy against synthetic load traces: a small simulation on a 1 s tick in which
// the allocation's own workers and each running satellite's workers clear 1 s of backlog per
// worker per tick, a submitted satellite waits in the batch queue for `queue_ticks`, joins in one
// tick and brings `workers_each` workers, and the policy's decisions are applied as the runtime
// applies them. Each trace checks what a user pays for: satellites when the work outlasts the
// wait, none when it does not, and none left once the work is gone.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tide/scheduler/satellite_policy.hpp"

using namespace tide::sched;

namespace {

struct satellite {
    std::uint64_t id = 0;
    satellite_state state = satellite_state::queued;
    int ticks_in_state = 0;
    double idle_for = 0;
};

struct simulation {
    explicit simulation(satellite_settings s, std::size_t own_workers = 1, int queue_for = 5)
        : policy(s), own(own_workers), queue_ticks(queue_for) {}

    void step(double arriving) {
        now += 1;
        backlog += arriving;
        std::size_t satellite_workers = 0;
        // A satellite told to end (retired, cancelled) leaves the queue two ticks later.
        sats.erase(std::remove_if(sats.begin(), sats.end(),
                                  [](const satellite& s) {
                                      return s.state == satellite_state::retiring &&
                                             s.ticks_in_state >= 2;
                                  }),
                   sats.end());
        for (auto& s : sats) {
            ++s.ticks_in_state;
            if (s.state == satellite_state::queued && s.ticks_in_state >= queue_ticks) {
                s.state = satellite_state::joining;
                s.ticks_in_state = 0;
                policy.started(queue_ticks);
                ++starts;
            } else if (s.state == satellite_state::joining) {
                s.state = satellite_state::running;
                s.ticks_in_state = 0;
                policy.joined();
            }
            if (s.state == satellite_state::running) satellite_workers += workers_each;
        }
        const double capacity = static_cast<double>(own + satellite_workers);
        const double served = std::min(backlog, capacity);
        // The allocation's own workers take work first; satellites are idle once they run dry.
        const double for_satellites = std::max(0.0, served - static_cast<double>(own));
        backlog -= served;
        for (auto& s : sats)
            if (s.state == satellite_state::running)
                s.idle_for = for_satellites > 0 ? 0 : s.idle_for + 1;

        satellite_input in;
        in.now = now;
        in.backlog_seconds = backlog;
        in.queued_tasks = static_cast<std::size_t>(std::ceil(backlog / 0.5));
        in.active_workers = own + satellite_workers;
        in.parked_workers = parked;
        in.join_seconds = 1;
        in.longest_task = longest_task;
        in.seconds_left = seconds_left - now;
        for (const auto& s : sats)
            in.satellites.push_back(
                {s.id, s.state, s.state == satellite_state::running && s.idle_for > 0, s.idle_for});
        apply(policy.tick(in));
        history.push_back(running());
    }

    void apply(const satellite_decision& d) {
        if (!d.reason.empty()) reasons.push_back(d.reason);
        if (d.submit) {
            EXPECT_FALSE(d.reason.empty());
            const bool ok = submissions_fail == 0;
            if (!ok) --submissions_fail;
            policy.submitted(now, ok);
            ++submits;
            if (ok) sats.push_back({next_id++, satellite_state::queued, 0, 0});
        }
        auto remove = [&](const std::vector<std::uint64_t>& ids, int& counter) {
            for (auto id : ids) {
                auto it = std::find_if(sats.begin(), sats.end(),
                                       [&](const satellite& s) { return s.id == id; });
                ASSERT_NE(it, sats.end());
                ASSERT_NE(it->state, satellite_state::retiring);
                it->state = satellite_state::retiring;
                it->ticks_in_state = 0;
                ++counter;
            }
        };
        remove(d.cancel, cancels);
        remove(d.retire, retires);
    }

    void run(int ticks, const std::function<double(int)>& arriving) {
        for (int k = 0; k < ticks; ++k) step(arriving(k));
    }
    std::size_t running() const {
        return static_cast<std::size_t>(std::count_if(
            sats.begin(), sats.end(), [](auto& s) { return s.state == satellite_state::running; }));
    }
    bool said(const std::string& words) const {
        return std::any_of(reasons.begin(), reasons.end(), [&](const std::string& r) {
            return r.find(words) != std::string::npos;
        });
    }

    satellite_policy policy;
    std::size_t own;
    int queue_ticks;
    std::size_t workers_each = 2;
    std::size_t parked = 0;
    double longest_task = 0;
    double seconds_left = 1e9;
    int submissions_fail = 0;
    std::vector<satellite> sats;
    std::vector<std::size_t> history;
    std::vector<std::string> reasons;
    std::uint64_t next_id = 1;
    double now = 0, backlog = 0;
    int submits = 0, starts = 0, cancels = 0, retires = 0;
};

satellite_settings settings(std::size_t max_satellites, std::size_t max_queued = 1) {
    satellite_settings s;
    s.max_satellites = max_satellites;
    s.max_queued = max_queued;
    s.idle_retire = 10;
    s.hold_ticks = 3;
    return s;
}

// 200 s of work arriving at once, then nothing: lasts 200 ticks on one worker, far beyond a
// five-tick wait.
double burst(int k) { return k == 0 ? 200 : 0; }

}  // namespace

TEST(SatellitePolicy, ABurstThatOutlastsTheWaitGetsOneSatelliteWhichRetiresAfterward) {
    simulation sim(settings(1));
    sim.policy.guess_wait(5);
    sim.run(200, burst);
    EXPECT_EQ(sim.submits, 1);
    EXPECT_EQ(sim.starts, 1);
    EXPECT_EQ(sim.retires, 1);
    EXPECT_TRUE(sim.sats.empty());
    EXPECT_EQ(sim.backlog, 0);
    // The satellite ran as long as there was work, then idled 10 ticks before retiring: the run
    // took far fewer ticks than the 200 of one worker alone.
    EXPECT_GT(std::count(sim.history.begin(), sim.history.end(), 1u), 40);
    EXPECT_LT(std::count(sim.history.begin(), sim.history.end(), 1u), 90);
}

TEST(SatellitePolicy, ASecondBurstSubmitsAgain) {
    simulation sim(settings(1));
    sim.run(400, [](int k) { return k == 0 || k == 200 ? 200 : 0; });
    EXPECT_EQ(sim.submits, 2);
    EXPECT_EQ(sim.retires, 2);
}

TEST(SatellitePolicy, WorkShorterThanTheWaitGetsNone) {
    simulation sim(settings(2), 2, 30);
    sim.policy.guess_wait(30);
    // 40 s of work over 2 workers: 20 s each, less than the 31 s a satellite would take.
    sim.run(100, [](int k) { return k == 0 ? 40 : 0; });
    EXPECT_EQ(sim.submits, 0);
}

TEST(SatellitePolicy, TheObservedWaitReplacesTheGuess) {
    satellite_policy p(settings(1));
    p.guess_wait(100);
    EXPECT_EQ(p.expected_wait(), 100);
    p.started(10);
    EXPECT_EQ(p.expected_wait(), 10);
    p.guess_wait(100);  // no effect once a wait was seen
    p.started(20);
    EXPECT_NEAR(p.expected_wait(), 13, 1e-9);  // 0.7 * 10 + 0.3 * 20
}

TEST(SatellitePolicy, ParkedWorkersAndFreeSlotsComeFirst) {
    simulation sim(settings(1));
    sim.parked = 1;
    sim.run(20, burst);
    EXPECT_EQ(sim.submits, 0);
    EXPECT_TRUE(sim.said("1 worker(s) parked"));
    // Said once, not every tick.
    EXPECT_EQ(std::count_if(sim.reasons.begin(), sim.reasons.end(),
                            [](auto& r) { return r.find("parked") != std::string::npos; }),
              1);

    satellite_policy p(settings(1));
    satellite_input in;
    in.backlog_seconds = 1000;
    in.queued_tasks = 100;
    in.active_workers = 1;
    in.slots_free = 1;
    for (int k = 0; k < 5; ++k) EXPECT_FALSE(p.tick(in).submit);
    in.slots_free = 0;
    in.spawn_in_flight = true;
    for (int k = 0; k < 5; ++k) EXPECT_FALSE(p.tick(in).submit);
    in.spawn_in_flight = false;
    bool submitted = false;
    for (int k = 0; k < 5 && !submitted; ++k) submitted = p.tick(in).submit;
    EXPECT_TRUE(submitted);
}

TEST(SatellitePolicy, QueuedSatellitesAreCancelledWhenTheWorkIsGone) {
    // A very long queue: the backlog is done by the allocation's own workers first.
    simulation sim(settings(2, 2), 4, 1000);
    sim.run(200, [](int k) { return k == 0 ? 400 : 0; });
    EXPECT_GE(sim.submits, 1);
    EXPECT_EQ(sim.starts, 0);
    EXPECT_EQ(sim.cancels, sim.submits);
    EXPECT_TRUE(sim.sats.empty());
}

TEST(SatellitePolicy, LimitsOnQueuedSatellitesOnSatellitesAndOnNodes) {
    {
        // Never more than one queued, never more than three in all.
        simulation sim(settings(3, 1), 1, 5);
        std::size_t most_queued = 0, most = 0;
        for (int k = 0; k < 300; ++k) {
            sim.step(k == 0 ? 3000 : 0);
            most_queued = std::max<std::size_t>(
                most_queued, std::count_if(sim.sats.begin(), sim.sats.end(), [](auto& s) {
                    return s.state == satellite_state::queued;
                }));
            most = std::max(most, sim.sats.size());
        }
        EXPECT_EQ(most_queued, 1u);
        EXPECT_EQ(most, 3u);
    }
    {
        auto s = settings(10, 10);
        s.nodes_each = 2;
        s.max_nodes = 5;  // room for two satellites of two nodes
        simulation sim(s, 1, 5);
        sim.run(100, [](int k) { return k == 0 ? 3000 : 0; });
        EXPECT_EQ(sim.submits, 2);
        EXPECT_TRUE(sim.said("past 5 node(s)"));
    }
}

TEST(SatellitePolicy, NoneThatWouldStartAfterTheJobsEnd) {
    simulation sim(settings(1), 1, 5);
    sim.policy.guess_wait(50);
    sim.seconds_left = 40;  // the job ends before the 50 s wait is over
    sim.run(30, burst);
    EXPECT_EQ(sim.submits, 0);
    EXPECT_TRUE(sim.said("the job ends in"));
}

TEST(SatellitePolicy, NoneWhoseTimeLimitCannotFitTheLongestTask) {
    auto s = settings(1);
    s.time_limit = 60;
    simulation sim(s);
    sim.longest_task = 90;
    sim.run(30, burst);
    EXPECT_EQ(sim.submits, 0);
    EXPECT_TRUE(sim.said("the longest queued task (90.0 s) would not fit"));
    sim.longest_task = 30;
    sim.run(10, [](int) { return 0; });
    EXPECT_EQ(sim.submits, 1);
}

TEST(SatellitePolicy, FailedSubmissionsBackOffAndPauseAfterTen) {
    auto s = settings(1);
    s.backoff = 2;
    s.max_backoff = 16;
    simulation sim(s);
    sim.submissions_fail = 1000;
    std::vector<double> when;
    for (int k = 0; k < 400; ++k) {
        const int before = sim.submits;
        sim.step(k == 0 ? 100000 : 0);
        if (sim.submits > before) when.push_back(sim.now);
    }
    ASSERT_EQ(when.size(), 10u);  // then paused
    EXPECT_TRUE(sim.policy.paused());
    EXPECT_TRUE(sim.said("paused: 10 submissions in a row failed"));
    // The gaps grow (2, 4, 8, 16 s of back-off, then capped), never shrink.
    for (std::size_t i = 2; i < when.size(); ++i)
        EXPECT_GE(when[i] - when[i - 1], when[i - 1] - when[i - 2]);
    EXPECT_GE(when[5] - when[4], 16);
}

TEST(SatellitePolicy, ThreeFailedStartsPause) {
    satellite_policy p(settings(1));
    for (int k = 0; k < 2; ++k) p.start_failed(k);
    EXPECT_FALSE(p.paused());
    p.joined();  // a success in between: the count starts again
    for (int k = 0; k < 2; ++k) p.start_failed(k);
    EXPECT_FALSE(p.paused());
    p.start_failed(3);
    EXPECT_TRUE(p.paused());
    EXPECT_EQ(p.paused_why(), "3 satellites in a row failed to start");
}

TEST(SatellitePolicy, ASatelliteStillEndingCountsAgainstTheLimits) {
    satellite_policy p(settings(1));
    satellite_input in;
    in.backlog_seconds = 1000;
    in.queued_tasks = 100;
    in.active_workers = 1;
    in.satellites.push_back({7, satellite_state::retiring, false, 0});
    std::string said;
    for (int k = 0; k < 5; ++k) {
        const auto d = p.tick(in);
        EXPECT_FALSE(d.submit);
        said += d.reason;
    }
    EXPECT_NE(said.find("1 satellite(s) already, the limit"), std::string::npos);
    in.satellites.clear();  // its job has ended
    bool submitted = false;
    for (int k = 0; k < 5 && !submitted; ++k) submitted = p.tick(in).submit;
    EXPECT_TRUE(submitted);
}

TEST(SatellitePolicy, CancelAndSubmitThresholdsLeaveAGap) {
    // Expected wait 10 s + join 0: submit above 10 s of backlog a worker, cancel below 5 s.
    auto s = settings(2, 2);
    s.hold_ticks = 1;
    satellite_policy p(s);
    p.guess_wait(10);
    satellite_input in;
    in.active_workers = 2;
    in.queued_tasks = 50;
    in.satellites.push_back({1, satellite_state::queued, false, 0});
    for (const double backlog : {19.0, 12.0, 10.5}) {  // 5.25 .. 9.5 s a worker: neither
        in.backlog_seconds = backlog;
        const auto d = p.tick(in);
        EXPECT_FALSE(d.submit) << backlog;
        EXPECT_TRUE(d.cancel.empty()) << backlog;
    }
    in.backlog_seconds = 9;  // 4.5 s a worker: cancel
    EXPECT_EQ(p.tick(in).cancel, std::vector<std::uint64_t>{1});
    in.backlog_seconds = 22;  // 11 s a worker: submit (another may queue)
    EXPECT_TRUE(p.tick(in).submit);
}

TEST(SatellitePolicy, BackOffStartsAgainAfterASuccess) {
    auto s = settings(1);
    s.backoff = 2;
    satellite_policy p(s);
    satellite_input in;
    in.backlog_seconds = 1000;
    in.queued_tasks = 100;
    in.active_workers = 0;  // no hold: a wish is acted on at once
    const auto submits_at = [&](double from, double to) {
        std::vector<double> at;
        for (double t = from; t < to; t += 1) {
            in.now = t;
            if (p.tick(in).submit) at.push_back(t);
        }
        return at;
    };
    EXPECT_EQ(submits_at(0, 1), std::vector<double>{0});
    p.submitted(0, false);  // back off 2 s
    EXPECT_EQ(submits_at(1, 3), std::vector<double>{2});
    p.submitted(2, false);  // 4 s
    EXPECT_EQ(submits_at(3, 7), std::vector<double>{6});
    p.submitted(6, true);  // accepted, but it fails to start: 8 s
    p.start_failed(7);
    EXPECT_EQ(submits_at(8, 16), std::vector<double>{15});
    p.submitted(15, true);
    p.joined();
    p.start_failed(16);  // back to 2 s, not 16
    EXPECT_EQ(submits_at(17, 19), std::vector<double>{18});
}

TEST(SatellitePolicy, OffWithoutSatellites) {
    simulation sim(settings(0));
    sim.run(50, burst);
    EXPECT_EQ(sim.submits, 0);
}
