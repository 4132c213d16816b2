// Unit tests of tide::scheduler: no MPI, microseconds each.

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "tide/scheduler/backoff.hpp"
#include "tide/scheduler/dispatch.hpp"
#include "tide/scheduler/task_table.hpp"

using namespace tide::sched;

TEST(TaskTable, InsertFindErase) {
    task_table t;
    task_record r;
    r.name_hash = 42;
    const auto a = t.insert(r);
    const auto b = t.insert(r);
    EXPECT_NE(a, b);
    EXPECT_NE(a, no_task);
    ASSERT_NE(t.find(a), nullptr);
    EXPECT_EQ(t.find(a)->name_hash, 42u);
    EXPECT_EQ(t.size(), 2u);
    t.erase(a);
    EXPECT_EQ(t.find(a), nullptr);
    EXPECT_NE(t.find(b), nullptr);
    EXPECT_EQ(t.size(), 1u);
    t.erase(a);  // erasing twice is harmless
    EXPECT_EQ(t.size(), 1u);
}

TEST(TaskTable, StaleIdNeverAliasesReusedSlot) {
    task_table t;
    const auto old_id = t.insert({});
    t.erase(old_id);
    const auto new_id = t.insert({});
    EXPECT_NE(old_id, new_id);
    EXPECT_EQ(t.find(old_id), nullptr);
    EXPECT_NE(t.find(new_id), nullptr);
    EXPECT_EQ(t.find(no_task), nullptr);
    EXPECT_EQ(t.find(0xffffffff00000000ull), nullptr);
}

TEST(TaskTable, ManyInsertsAndErasesKeepEveryLiveRecord) {
    task_table t;
    std::mt19937 rng(7);
    std::vector<std::pair<task_id, std::uint64_t>> live;
    for (std::uint64_t i = 0; i < 20000; ++i) {
        if (!live.empty() && rng() % 3 == 0) {
            const auto k = rng() % live.size();
            t.erase(live[k].first);
            live[k] = live.back();
            live.pop_back();
        } else {
            task_record r;
            r.name_hash = i;
            live.emplace_back(t.insert(r), i);
        }
    }
    EXPECT_EQ(t.size(), live.size());
    for (const auto& [id, value] : live) {
        ASSERT_NE(t.find(id), nullptr);
        EXPECT_EQ(t.find(id)->name_hash, value);
    }
    std::size_t seen = 0;
    t.for_each([&](task_id, task_record&) { ++seen; });
    EXPECT_EQ(seen, live.size());
}

static std::size_t sum(const std::vector<std::size_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::size_t{0});
}

TEST(PlanDispatch, SharesFewTasksEvenly) {
    std::vector<worker_load> w(2);
    const auto plan = plan_dispatch(10, w, 256);
    EXPECT_EQ(plan, (std::vector<std::size_t>{5, 5}));
}

TEST(PlanDispatch, OddRemainderGoesOneEach) {
    std::vector<worker_load> w(3);
    const auto plan = plan_dispatch(10, w, 256);
    EXPECT_EQ(sum(plan), 10u);
    for (auto n : plan) EXPECT_TRUE(n == 3 || n == 4);
}

// One task and two idle workers: it goes to the one active last (still polling fast), and
// ties keep index order.
TEST(PlanDispatch, RemainderGoesToTheMostRecentlyActive) {
    std::vector<worker_load> w{{0, true, 100}, {0, true, 300}, {0, true, 200}};
    EXPECT_EQ(plan_dispatch(1, w, 256), (std::vector<std::size_t>{0, 1, 0}));
    EXPECT_EQ(plan_dispatch(2, w, 256), (std::vector<std::size_t>{0, 1, 1}));
    EXPECT_EQ(plan_dispatch(4, w, 256), (std::vector<std::size_t>{1, 2, 1}));
    std::vector<worker_load> tied(3);
    EXPECT_EQ(plan_dispatch(2, tied, 256), (std::vector<std::size_t>{1, 1, 0}));
}

TEST(PlanDispatch, LeastLoadedFirst) {
    std::vector<worker_load> w{{10, true}, {0, true}, {4, true}};
    const auto plan = plan_dispatch(6, w, 256);
    EXPECT_EQ(plan, (std::vector<std::size_t>{0, 5, 1}));
}

TEST(PlanDispatch, NeverPastPrefetch) {
    std::vector<worker_load> w{{0, true}, {3, true}};
    const auto plan = plan_dispatch(1000, w, 8);
    EXPECT_EQ(plan, (std::vector<std::size_t>{8, 5}));
}

TEST(PlanDispatch, SkipsWorkersNotAccepting) {
    std::vector<worker_load> w{{0, false}, {0, true}};
    EXPECT_EQ(plan_dispatch(7, w, 256), (std::vector<std::size_t>{0, 7}));
    std::vector<worker_load> none{{0, false}};
    EXPECT_EQ(plan_dispatch(7, none, 256), (std::vector<std::size_t>{0}));
}

TEST(PlanDispatch, NothingQueuedOrNoWorkers) {
    std::vector<worker_load> w(3);
    EXPECT_EQ(sum(plan_dispatch(0, w, 256)), 0u);
    EXPECT_TRUE(plan_dispatch(5, {}, 256).empty());
}

// Any mix of loads: the plan hands out min(queued, free room), respects prefetch, and leaves
// the accepting workers within one task of each other wherever none is full.
TEST(PlanDispatch, RandomLoadsInvariants) {
    std::mt19937 rng(11);
    for (int round = 0; round < 2000; ++round) {
        const std::size_t prefetch = 1 + rng() % 64;
        std::vector<worker_load> w(1 + rng() % 9);
        std::size_t room = 0;
        for (auto& x : w) {
            x.in_hand = rng() % (prefetch + 1);
            x.accepting = rng() % 5 != 0;
            if (x.accepting) room += prefetch - x.in_hand;
        }
        const std::size_t queued = rng() % 200;
        const auto plan = plan_dispatch(queued, w, prefetch);
        ASSERT_EQ(plan.size(), w.size());
        EXPECT_EQ(sum(plan), std::min(queued, room));
        std::size_t lo = SIZE_MAX, hi = 0;
        for (std::size_t i = 0; i < w.size(); ++i) {
            if (!w[i].accepting) {
                EXPECT_EQ(plan[i], 0u);
                continue;
            }
            const auto after = w[i].in_hand + plan[i];
            EXPECT_LE(after, prefetch);
            if (plan[i] > 0) hi = std::max(hi, after);
            if (after < prefetch) lo = std::min(lo, after);
        }
        // A worker that received tasks never ends more than one above a worker left below
        // prefetch: nobody is skipped in favour of a busier one.
        if (hi > 0 && lo != SIZE_MAX) {
            EXPECT_LE(hi, lo + 1);
        }
    }
}

TEST(IdleBackoff, SpinThenYieldThenSleepProportionalToIdleTimeWithinBounds) {
    using namespace std::chrono;
    const idle_backoff::clock::time_point t0{};
    idle_backoff b(2, 3, 4, microseconds(10), milliseconds(5));
    auto sleep_at = [&](auto t) {
        const auto s = b.next(t);
        EXPECT_EQ(s.action, idle_action::sleep);
        return s.sleep;
    };
    EXPECT_EQ(b.next(t0).action, idle_action::spin);
    EXPECT_EQ(b.next(t0).action, idle_action::spin);
    EXPECT_EQ(b.next(t0).action, idle_action::yield);
    EXPECT_EQ(sleep_at(t0), microseconds(10));                       // idle spell starts: floor
    EXPECT_EQ(sleep_at(t0 + microseconds(400)), microseconds(100));  // a quarter of the idle time
    EXPECT_EQ(sleep_at(t0 + milliseconds(8)), milliseconds(2));
    EXPECT_EQ(sleep_at(t0 + seconds(3)), milliseconds(5));  // cap
    b.reset();
    EXPECT_EQ(b.next(t0 + seconds(4)).action, idle_action::spin);  // quick polls again
    EXPECT_EQ(b.next(t0 + seconds(4)).action, idle_action::spin);
    EXPECT_EQ(b.next(t0 + seconds(4)).action, idle_action::yield);
    EXPECT_EQ(sleep_at(t0 + seconds(4)), microseconds(10));  // timed anew from here
    EXPECT_EQ(sleep_at(t0 + seconds(4) + microseconds(800)), microseconds(200));
}

// Waiting for a result due at a known time: no sleep runs into the window around it, the
// window is polled without sleeping, and a late result is met within a sixteenth of its lateness.
TEST(IdleBackoff, ExpectedResultIsMetInItsWindowAndLateOnesSoon) {
    using namespace std::chrono;
    const idle_backoff::clock::time_point t0{};
    const expected_result due{t0 + milliseconds(20), microseconds(50)};
    idle_backoff b(0, 0, 4, microseconds(10), milliseconds(5));
    (void)b.next(t0, &due);  // the idle spell starts
    auto at = [&](auto t) { return b.next(t, &due); };
    EXPECT_EQ(at(t0 + milliseconds(8)).sleep, milliseconds(2));  // the usual quarter
    // Nearing the window (it opens at 19.95 ms): the sleep stops 0.1 ms before, as a sleep
    // may overrun that much.
    EXPECT_EQ(at(t0 + microseconds(19000)).sleep, microseconds(850));
    EXPECT_EQ(at(t0 + microseconds(19845)).action, idle_action::yield);  // under the floor
    EXPECT_EQ(at(t0 + milliseconds(20)).action, idle_action::yield);     // inside
    EXPECT_EQ(at(t0 + microseconds(20049)).action, idle_action::yield);
    // Late: floor, then a sixteenth of the lateness, then the cap.
    EXPECT_EQ(at(t0 + microseconds(20060)).sleep, microseconds(10));
    EXPECT_EQ(at(t0 + microseconds(21650)).sleep, microseconds(100));
    EXPECT_EQ(at(t0 + seconds(2)).sleep, milliseconds(5));
}

// Whenever a result comes, the wait for it overshoots little: the window is polled hot, a
// result before it within the usual quarter of the spell, a late one within a sixteenth of the
// lateness.
TEST(IdleBackoff, ExpectationBoundsTheOvershootWhereverTheResultComes) {
    using namespace std::chrono;
    const idle_backoff::clock::time_point t0{};
    const expected_result due{t0 + milliseconds(10), microseconds(30)};
    for (microseconds arrives : {microseconds(200), microseconds(4000), microseconds(9980),
                                 microseconds(10020), microseconds(12000), microseconds(80000)}) {
        idle_backoff b(0, 0, 4, microseconds(10), milliseconds(5));
        auto now = t0;
        while (now - t0 < arrives) {
            const auto s = b.next(now, &due);
            now += s.action == idle_action::sleep ? s.sleep : microseconds(1);  // a poll
        }
        const auto over = now - t0 - arrives;
        if (arrives + microseconds(30) < microseconds(10000)) {
            EXPECT_LE(over, arrives / 4 + microseconds(10)) << arrives.count();
        } else if (arrives <= microseconds(10030)) {
            EXPECT_LE(over, microseconds(1)) << arrives.count();
        } else {
            EXPECT_LE(over, (arrives - microseconds(10030)) / 16 + microseconds(10))
                << arrives.count();
        }
    }
}

// A loop that wakes on its own schedule (rank 0's background thread, every 5 ms) shortens its
// pause to meet an expected result: up to the window's opening (less a sleep's overrun), none
// inside it, a sixteenth of the lateness after it.
TEST(IdleBackoff, PauseOfALoopOnItsOwnScheduleMeetsTheExpectedResult) {
    using namespace std::chrono;
    const idle_backoff::clock::time_point t0{};
    const expected_result due{t0 + milliseconds(20), microseconds(50)};
    const auto pause = [&](auto now) {
        return pause_before(due, now, milliseconds(5), microseconds(10), milliseconds(5));
    };
    EXPECT_EQ(pause(t0), milliseconds(5));                          // far off: as usual
    EXPECT_EQ(pause(t0 + milliseconds(17)), microseconds(2850));    // to 19.85 ms
    EXPECT_EQ(pause(t0 + microseconds(19845)), microseconds(0));    // under the shortest
    EXPECT_EQ(pause(t0 + milliseconds(20)), microseconds(0));       // inside
    EXPECT_EQ(pause(t0 + microseconds(20060)), microseconds(10));   // just late: the shortest
    EXPECT_EQ(pause(t0 + microseconds(21650)), microseconds(100));  // 1.6 ms late
    EXPECT_EQ(pause(t0 + seconds(1)), milliseconds(5));             // very late: as usual
}

TEST(IdleBackoff, TaskExpectationSpreadsTwoDeviationsWithinAFloorAndASixteenth) {
    using namespace std::chrono;
    const idle_backoff::clock::time_point t0{};
    const auto e = expect_task(t0, 0.010, 0.0);  // a steady 10 ms task
    EXPECT_EQ(e.at, t0 + milliseconds(10));
    EXPECT_EQ(e.spread, microseconds(50));                                // the floor
    EXPECT_EQ(expect_task(t0, 0.010, 1e-8).spread, microseconds(200));    // 2 x 0.1 ms
    EXPECT_EQ(expect_task(t0, 0.010, 1e-4).spread, microseconds(625));    // a sixteenth
    EXPECT_EQ(expect_task(t0, 0.000050, 1e-4).spread, microseconds(50));  // a tiny task
}

// The property the proportional rule exists for: however long a quiet spell lasts, the sleep
// that ends it overshoots by at most a quarter of it (plus the floor).
TEST(IdleBackoff, OvershootIsABoundedFractionOfTheGap) {
    using namespace std::chrono;
    for (microseconds gap :
         {microseconds(50), microseconds(700), microseconds(3000), microseconds(40000)}) {
        const idle_backoff::clock::time_point t0{};
        idle_backoff b(0, 0, 4, microseconds(10), milliseconds(5));
        auto now = t0;
        (void)b.next(now);                                // the first sleep starts the idle spell
        while (now - t0 < gap) now += b.next(now).sleep;  // sleep until the poll after the gap
        EXPECT_LE(now - t0 - gap, gap / 4 + microseconds(10))
            << duration_cast<microseconds>(gap).count();
    }
}

// fill_order, the incremental twin of plan_dispatch (for pools of thousands of workers): giving
// tasks one at a time to next() ends with exactly the counts plan_dispatch gives, on random
// loads, prefetch caps and queue lengths.
TEST(FillOrder, EndsWithTheCountsPlanDispatchGives) {
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        const std::size_t n = 1 + rng() % 12, prefetch = 1 + rng() % 8, queued = rng() % 40;
        std::vector<worker_load> w(n);
        fill_order order;
        for (std::size_t i = 0; i < n; ++i) {
            w[i] = {rng() % (prefetch + 2), rng() % 5 != 0, static_cast<std::int64_t>(rng() % 4)};
            order.update(i, w[i]);
        }
        const auto plan = plan_dispatch(queued, w, prefetch);
        std::vector<std::size_t> given(n, 0);
        for (std::size_t t = 0; t < queued; ++t) {
            const auto next = order.next(prefetch);
            if (!next) break;
            ++given[*next];
            auto load = order.load(*next);
            ++load.in_hand;
            order.update(*next, load);
        }
        ASSERT_EQ(given, plan) << "round " << round;
    }
}

TEST(FillOrder, NothingWhenEveryWorkerIsFullOrClosed) {
    fill_order order;
    order.update(0, {4, true, 0});
    order.update(1, {0, false, 0});
    EXPECT_FALSE(order.next(4).has_value());
    EXPECT_EQ(order.next(5), std::optional<std::size_t>(0));
    order.update(1, {0, true, 9});
    EXPECT_EQ(order.next(5), std::optional<std::size_t>(1));
}
