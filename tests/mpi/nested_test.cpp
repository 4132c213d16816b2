// Nested tasks and work stealing end to end, at 1, 2, 3 and 5 ranks. Every task counts its own
// executions in its process; after the run, the ranks add their counts up (MPI, outside tide),
// so a task lost or run twice anywhere shows in the total.

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <tide/tide.hpp>

#include "with_tide.hpp"

namespace {

std::atomic<long> executions{0};

long total_executions() {
    long mine = executions.exchange(0), all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    return all;
}

std::uint64_t fib_tasks(int n) {
    ++executions;
    if (n < 2) return static_cast<std::uint64_t>(n);
    auto a = tide::submit(fib_tasks, n - 1);
    auto b = tide::submit(fib_tasks, n - 2);
    return a.get() + b.get();
}
TIDE_TASK(fib_tasks);

// The plain answers to compare with.
std::uint64_t fib_plain(int n) {
    return n < 2 ? static_cast<std::uint64_t>(n) : fib_plain(n - 1) + fib_plain(n - 2);
}
long calls_plain(int n) { return n < 2 ? 1 : 1 + calls_plain(n - 1) + calls_plain(n - 2); }

int chain(int depth) {
    ++executions;
    if (depth == 0) throw std::runtime_error("bottom of the chain");
    return tide::submit(chain, depth - 1).get() + 1;
}
TIDE_TASK(chain);

int depth_of(int depth) { return depth == 0 ? 0 : tide::submit(depth_of, depth - 1).get() + 1; }
TIDE_TASK(depth_of);

// Catches its child's failure and carries on.
int recovers(int depth) {
    try {
        return tide::submit(chain, depth).get();
    } catch (const tide::task_error& e) {
        return e.message() == "bottom of the chain" ? -1 : -2;
    }
}
TIDE_TASK(recovers);

int pid_after_ms(int ms) {
    ++executions;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return static_cast<int>(getpid());
}
TIDE_TASK(pid_after_ms);

// Spawns `n` slow children at once and reports on how many processes they ran.
std::vector<int> fan_out(int n, int ms) {
    ++executions;
    std::vector<tide::future<int>> children;
    for (int i = 0; i < n; ++i) children.push_back(tide::submit(pid_after_ms, ms));
    std::vector<int> pids;
    for (auto& c : children) pids.push_back(c.get());
    return pids;
}
TIDE_TASK(fan_out);

int dropped_children(int n) {
    ++executions;
    for (int i = 0; i < n; ++i) tide::submit(pid_after_ms, 0);  // futures dropped at once
    return n;
}
TIDE_TASK(dropped_children);

std::size_t distinct(const std::vector<int>& v) { return std::set<int>(v.begin(), v.end()).size(); }

}  // namespace

TEST(Nested, FibonacciRunsEveryTaskExactlyOnce) {
    with_tide([](tide::driver& d) { EXPECT_EQ(d.submit(fib_tasks, 18).get(), fib_plain(18)); });
    EXPECT_EQ(total_executions(), calls_plain(18));
}

TEST(Nested, ManyRootsAtOnce) {
    with_tide([](tide::driver& d) {
        std::vector<int> ns;
        for (int i = 0; i < 40; ++i) ns.push_back(i % 14);
        const auto got = d.map(fib_tasks, ns);
        for (std::size_t i = 0; i < ns.size(); ++i) EXPECT_EQ(got[i], fib_plain(ns[i]));
    });
    long expected = 0;
    for (int i = 0; i < 40; ++i) expected += calls_plain(i % 14);
    EXPECT_EQ(total_executions(), expected);
}

TEST(Nested, ExceptionFromADeepChildReachesTheDriver) {
    with_tide([](tide::driver& d) {
        try {
            d.submit(chain, 40).get();
            ADD_FAILURE() << "no exception";
        } catch (const tide::task_error& e) {
            EXPECT_EQ(e.reason(), tide::task_error::kind::threw);
            EXPECT_EQ(e.task_name(), "chain");
            EXPECT_EQ(e.message(), "bottom of the chain");
        }
        EXPECT_EQ(d.submit(recovers, 5).get(), -1);
    });
    EXPECT_EQ(total_executions(), 41 + 6);
}

TEST(Nested, DeepRecursionFitsTheTaskStack) {
    with_tide([](tide::driver& d) { EXPECT_EQ(d.submit(depth_of, 20000).get(), 20000); });
}

TEST(Nested, TooDeepForTheStackIsAClearError) {
    with_tide(
        [](tide::driver& d) {
            try {
                d.submit(depth_of, 1000000).get();
                ADD_FAILURE() << "no exception";
            } catch (const tide::task_error& e) {
                EXPECT_NE(e.message().find("--tide-stack-size"), std::string::npos) << e.what();
            }
            EXPECT_EQ(d.submit(depth_of, 10).get(), 10);  // the run goes on
        },
        {"--tide-stack-size=4"});
}

TEST(Nested, DroppedChildFuturesStillRun) {
    with_tide([](tide::driver& d) { EXPECT_EQ(d.submit(dropped_children, 30).get(), 30); });
    EXPECT_EQ(total_executions(), 31);
}

TEST(Nested, SubmitOutsideATaskIsAClearError) {
    with_tide([](tide::driver&) {
        try {
            tide::submit(fib_tasks, 3);
            ADD_FAILURE() << "no exception";
        } catch (const tide::error& e) {
            EXPECT_NE(std::string(e.what()).find("driver"), std::string::npos) << e.what();
        }
    });
}

// A run that ends at once (workers still reporting their cores while shutting down), then one
// that steals: nothing sent to a worker after its shutdown may linger into the next run's
// communicator, where it once made a later task batch vanish (recovered after 2 s, counted).
TEST(Stealing, NoBatchIsLostAfterRunsThatEndAtOnce) {
    for (int round = 0; round < 5; ++round) {
        with_tide([](tide::driver&) {});
        with_tide([round](tide::driver& d) {
            EXPECT_EQ(d.submit(fan_out, 8, 2).get().size(), 8u);
            EXPECT_EQ(d.load().batches_lost, 0u) << "round " << round;
        });
    }
    EXPECT_EQ(total_executions(), 5 * 9);  // each task ran once: fan_out and its 8 children
}

// One task holds all the work (its children on its own deque): the other workers must end up
// running some of it.
TEST(Stealing, IdleWorkersTakeChildrenFromABusyOne) {
    with_tide([](tide::driver& d) {
        const auto pids = d.submit(fan_out, 24, 20).get();
        ASSERT_EQ(pids.size(), 24u);
        if (d.workers() >= 2) {
            EXPECT_GE(distinct(pids), 2u);
            const auto s = d.load().stealing;
            EXPECT_GE(s.steals, 1u);
            EXPECT_GE(s.tasks_moved, 1u);
        } else {
            EXPECT_EQ(distinct(pids), 1u);
        }
    });
    EXPECT_EQ(total_executions(), 25);
}

// Rank 0 sends half of a sorted list of tasks (the slow half) to one worker: once the other
// has finished the fast half, it takes queued slow tasks away from the first.
TEST(Stealing, QueuedTasksMoveFromAnOverloadedWorker) {
    with_tide([](tide::driver& d) {
        std::vector<int> ms(16, 30);
        ms.resize(32, 0);
        const auto pids = d.map(pid_after_ms, ms);
        const std::vector<int> slow(pids.begin(), pids.begin() + 16);
        if (d.workers() >= 2) {
            EXPECT_GE(distinct(slow), 2u);
            EXPECT_GE(d.load().stealing.tasks_moved, 1u);
        }
    });
    EXPECT_EQ(total_executions(), 32);
}

TEST(Load, SnapshotLearnsDurationsAndSeesQueuedWork) {
    with_tide([](tide::driver& d) {
        EXPECT_EQ(d.load().workers.size(), static_cast<std::size_t>(d.workers()));
        d.map(pid_after_ms, std::vector<int>(20, 5));
        // Durations reach rank 0 with the workers' status; give an idle worker's a moment.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto futures = d.submit_all(pid_after_ms, std::vector<int>(40, 5));
        const auto s = d.load();
        // 40 tasks of 5 ms: 0.2 s of work, wherever it sits now (queued, in hand, or done).
        EXPECT_GT(s.total_backlog_seconds, 0.02);
        EXPECT_LT(s.total_backlog_seconds, 2.0);
        tide::wait_all(futures);
    });
    EXPECT_EQ(total_executions(), 60);
}

namespace {
std::size_t parked_workers(const tide::load_snapshot& s) {
    return static_cast<std::size_t>(
        std::count_if(s.workers.begin(), s.workers.end(), [](const auto& w) { return w.parked; }));
}
}  // namespace

// Ranks beyond --tide-min-workers park once idle, and a burst of work wakes them all.
TEST(Elastic, IdleRanksBeyondTheMinimumParkAndWakeForABurst) {
    with_tide(
        [](tide::driver& d) {
            const auto beyond_min = static_cast<std::size_t>(std::max(d.workers() - 1, 0));
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (parked_workers(d.load()) < beyond_min &&
                   std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            EXPECT_EQ(parked_workers(d.load()), beyond_min);
            const auto pids = d.map(pid_after_ms, std::vector<int>(60, 20));
            EXPECT_EQ(distinct(pids), static_cast<std::size_t>(std::max(d.workers(), 1)));
            const auto s = d.load();
            EXPECT_EQ(s.scaling.parks, beyond_min);
            EXPECT_GE(s.scaling.wakes, beyond_min);
        },
        {"--tide-min-workers=1", "--tide-idle-park=0.2", "--tide-target-backlog=0.05"});
    EXPECT_EQ(total_executions(), 60);
}
