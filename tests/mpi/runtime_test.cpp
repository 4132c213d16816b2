// The runtime end to end on real MPI ranks. ctest runs this binary at 1, 2, 3 and 5 ranks; each
// TEST is one tide::run: rank 0 executes the driver lambda (and its assertions), every other
// rank serves tasks and returns when the driver is done.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tide/tide.hpp>

#include "with_tide.hpp"

namespace {

int square(int x) { return x * x; }
TIDE_TASK(square);

int noop(int x) { return x; }
TIDE_TASK(noop);

struct sample {
    std::string name;
    std::vector<double> values;
    std::map<std::string, int> tags;
    template <class A>
    void serialize(A& ar) {
        ar(name, values, tags);
    }
};

struct stats {
    std::string name;
    double mean = 0;
    std::size_t count = 0;
    int tag_sum = 0;
    template <class A>
    void serialize(A& ar) {
        ar(name, mean, count, tag_sum);
    }
};

stats describe(const sample& s) {
    stats out{s.name + "!", 0, s.values.size(), 0};
    for (double v : s.values) out.mean += v;
    if (!s.values.empty()) out.mean /= static_cast<double>(s.values.size());
    for (const auto& [k, v] : s.tags) out.tag_sum += v;
    return out;
}
TIDE_TASK(describe);

// Large argument in, large result out.
std::vector<double> scale(const std::vector<double>& v, double factor) {
    std::vector<double> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i] * factor;
    return out;
}
TIDE_TASK(scale);

int fails_on_odd(int x) {
    if (x % 2) throw std::runtime_error("odd input " + std::to_string(x));
    return x;
}
TIDE_TASK(fails_on_odd);

int throws_non_std(int) { throw 3.5; }
TIDE_TASK(throws_non_std);

int sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}
TIDE_TASK(sleep_ms);

std::string greet(const std::string& who) { return "hello " + who; }
TIDE_TASK(greet);

void touch(int) {}
TIDE_TASK(touch);

std::vector<std::uint8_t> blob_after(std::size_t bytes, int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return std::vector<std::uint8_t>(bytes, 7);
}
TIDE_TASK(blob_after);

std::size_t byte_count(const std::vector<std::uint8_t>& v) { return v.size(); }
TIDE_TASK(byte_count);

double process_cpu_seconds(int) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}
TIDE_TASK(process_cpu_seconds);

// Nanoseconds the threads of a process have spent runnable but waiting for a core: the second
// field of each thread's /proc/<pid>/task/<tid>/schedstat. No runtime can answer while the
// kernel gives its cores to someone else, so a test of promptness leaves this time out.
std::int64_t run_queue_ns(int pid) {
    std::int64_t total = 0;
    for (const auto& thread :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream in(thread.path() / "schedstat");
        std::int64_t on_cpu = 0, waiting = 0;
        if (in >> on_cpu >> waiting) total += waiting;
    }
    return total;
}

std::int64_t steady_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

void spin_ms(int ms) {
    const std::int64_t end = steady_ns() + std::int64_t{ms} * 1000000;
    while (steady_ns() < end) {
    }
}

// Busy for `ms` milliseconds. Returns when it ended on the steady clock (one clock for all
// processes of a host), its own process, and the run-queue time of that process and of the
// `others` at that moment.
std::vector<std::int64_t> spin_ms_noting_run_queue(int ms, const std::vector<int>& others) {
    spin_ms(ms);
    const int self = static_cast<int>(getpid());
    std::int64_t queued = run_queue_ns(self);
    for (int pid : others) queued += run_queue_ns(pid);
    return {steady_ns(), self, queued};  // the end after the reading, which takes ~0.1 ms
}
TIDE_TASK(spin_ms_noting_run_queue);

// A parent that submits a child busy for `ms`, is busy as long itself (meanwhile an idle worker
// steals the child), then waits for it. Returns whether the child ran in another process, how
// long after the child's end its get() returned, and the run-queue time the three processes
// (the child's, this one, rank 0) gained in between.
std::vector<std::int64_t> parent_of_stolen_child(int ms, int rank0_pid) {
    const int self = static_cast<int>(getpid());
    auto child = tide::submit(spin_ms_noting_run_queue, ms, std::vector<int>{self, rank0_pid});
    spin_ms(ms);
    const auto noted = child.get();
    const std::int64_t returned = steady_ns();
    const int child_pid = static_cast<int>(noted[1]);
    const std::int64_t queued =
        run_queue_ns(child_pid) + run_queue_ns(self) + run_queue_ns(rank0_pid) - noted[2];
    return {child_pid != self ? 1 : 0, returned - noted[0], queued};
}
TIDE_TASK(parent_of_stolen_child);

}  // namespace

TEST(Runtime, SubmitAndGet) {
    with_tide([](tide::driver& d) {
        auto f = d.submit(square, 7);
        EXPECT_TRUE(f.valid());
        EXPECT_EQ(f.get(), 49);
        EXPECT_FALSE(f.valid());
        EXPECT_THROW(f.get(), tide::error);  // a future is collected once
    });
}

TEST(Runtime, MapKeepsOrder) {
    with_tide([](tide::driver& d) {
        std::vector<int> in(10000);
        std::iota(in.begin(), in.end(), -5000);
        const auto out = d.map(square, in);
        ASSERT_EQ(out.size(), in.size());
        for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] * in[i]) << i;
    });
}

TEST(Runtime, HundredThousandSmallTasks) {
    with_tide([](tide::driver& d) {
        std::vector<int> in(100000);
        std::iota(in.begin(), in.end(), 0);
        const auto start = std::chrono::steady_clock::now();
        const auto out = d.map(noop, in);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        EXPECT_EQ(out, in);
        std::printf("100000 no-op tasks on %d worker(s): %.3f s (%.0f tasks/s)\n", d.workers(), s,
                    100000 / s);
    });
}

TEST(Runtime, ManySingleSubmissionsThenGet) {
    with_tide([](tide::driver& d) {
        std::vector<tide::future<int>> fs;
        for (int i = 0; i < 20000; ++i) fs.push_back(d.submit(square, i));
        for (int i = 0; i < 20000; ++i) ASSERT_EQ(fs[static_cast<std::size_t>(i)].get(), i * i);
    });
}

TEST(Runtime, UserStructs) {
    with_tide([](tide::driver& d) {
        std::vector<sample> in;
        for (int i = 0; i < 50; ++i)
            in.push_back({"s" + std::to_string(i), {1.0 * i, 3.0 * i}, {{"a", i}, {"b", 1}}});
        const auto out = d.map(describe, in);
        for (int i = 0; i < 50; ++i) {
            EXPECT_EQ(out[static_cast<std::size_t>(i)].name, "s" + std::to_string(i) + "!");
            EXPECT_DOUBLE_EQ(out[static_cast<std::size_t>(i)].mean, 2.0 * i);
            EXPECT_EQ(out[static_cast<std::size_t>(i)].count, 2u);
            EXPECT_EQ(out[static_cast<std::size_t>(i)].tag_sum, i + 1);
        }
    });
}

TEST(Runtime, LargeArgumentsAndResults) {
    with_tide([](tide::driver& d) {
        std::vector<double> big(3'000'000);  // 24 MB
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i);
        auto a = d.submit(scale, big, 2.0);
        auto b = d.submit(scale, big, -1.0);
        const auto ra = a.get();
        const auto rb = b.get();
        ASSERT_EQ(ra.size(), big.size());
        ASSERT_EQ(rb.size(), big.size());
        for (std::size_t i = 0; i < big.size(); i += 9973) {
            ASSERT_EQ(ra[i], 2.0 * big[i]);
            ASSERT_EQ(rb[i], -big[i]);
        }
        EXPECT_EQ(ra.back(), 2.0 * big.back());
    });
}

TEST(Runtime, TaskExceptionReachesCallerAndOthersGoOn) {
    with_tide([](tide::driver& d) {
        auto fs = d.submit_all(fails_on_odd, std::vector{0, 1, 2, 3, 4});
        for (int i = 0; i < 5; ++i) {
            auto& f = fs[static_cast<std::size_t>(i)];
            if (i % 2 == 0) {
                EXPECT_EQ(f.get(), i);
                continue;
            }
            try {
                f.get();
                ADD_FAILURE() << "task " << i << " should have failed";
            } catch (const tide::task_error& e) {
                EXPECT_EQ(e.reason(), tide::task_error::kind::threw);
                EXPECT_EQ(e.task_name(), "fails_on_odd");
                EXPECT_EQ(e.message(), "odd input " + std::to_string(i));
                EXPECT_FALSE(e.host().empty());
                EXPECT_NE(e.host(), "?");
                if (d.workers() > 0) {
                    EXPECT_GE(e.rank(), 1);
                    EXPECT_LE(e.rank(), d.workers());
                } else {
                    EXPECT_EQ(e.rank(), 0);
                }
                EXPECT_NE(std::string(e.what()).find("odd input"), std::string::npos);
            }
        }
        EXPECT_EQ(d.submit(square, 3).get(), 9);  // the run goes on
    });
}

TEST(Runtime, StatsCountTasksByOutcome) {
    with_tide([](tide::driver& d) {
        EXPECT_EQ(d.stats().submitted, 0u);  // a run of its own: nothing yet
        auto fs = d.submit_all(fails_on_odd, std::vector{0, 1, 2, 3, 4, 5, 6});
        tide::wait_all(fs);
        const auto s = d.stats();
        EXPECT_EQ(s.submitted, 7u);
        EXPECT_EQ(s.ok, 4u);
        EXPECT_EQ(s.failed, 3u);
        EXPECT_EQ(s.outstanding, 0u);
        EXPECT_EQ(s.retried, 0u);
        EXPECT_GT(s.makespan_seconds, 0.0);
        EXPECT_LE(s.makespan_seconds, s.elapsed_seconds);
        EXPECT_NEAR(s.tasks_per_second, 7 / s.makespan_seconds, 1e-6 * s.tasks_per_second);
        std::uint64_t tasks = 0;
        for (const auto& w : s.workers) {
            tasks += w.tasks;
            EXPECT_GE(w.busy_fraction, 0.0) << w.rank;
            EXPECT_LE(w.busy_seconds, w.seconds_in_pool + 0.01) << w.rank;
        }
        EXPECT_EQ(tasks, 7u);  // every task ran once, on the rank that reported it
        // One table row per rank that ran tasks.
        const auto table = tide::to_table(s);
        EXPECT_NE(table.find("7 task(s) submitted: 4 ok, 3 failed"), std::string::npos) << table;
        EXPECT_NE(tide::to_json(s).find("\"failed\": 3"), std::string::npos);
    });
}

TEST(Runtime, MapThrowsTheFirstFailure) {
    with_tide([](tide::driver& d) {
        EXPECT_THROW(d.map(fails_on_odd, std::vector{2, 4, 5, 6}), tide::task_error);
    });
}

TEST(Runtime, NonStandardExceptionIsReported) {
    with_tide([](tide::driver& d) {
        try {
            d.submit(throws_non_std, 1).get();
            ADD_FAILURE() << "expected task_error";
        } catch (const tide::task_error& e) {
            EXPECT_NE(e.message().find("not derived from std::exception"), std::string::npos);
        }
    });
}

TEST(Runtime, UnknownTaskNameIsTaskError) {
    with_tide([](tide::driver& d) {
        try {
            d.submit_named<int>("no_such_task", 1).get();
            ADD_FAILURE() << "expected task_error";
        } catch (const tide::task_error& e) {
            EXPECT_EQ(e.reason(), tide::task_error::kind::unknown_task);
            EXPECT_EQ(e.task_name(), "no_such_task");
        }
    });
}

TEST(Runtime, NamedSubmissionChecksTypes) {
    with_tide([](tide::driver& d) {
        EXPECT_EQ(d.submit_named<int>("square", 5).get(), 25);
        try {
            d.submit_named<int>("square", std::string("five")).get();
            ADD_FAILURE() << "expected task_error";
        } catch (const tide::task_error& e) {
            EXPECT_EQ(e.reason(), tide::task_error::kind::bad_arguments);
            EXPECT_NE(e.message().find("int(int)"), std::string::npos);
            EXPECT_NE(e.message().find("std::string"), std::string::npos);
        }
        // Right arguments, wrong result type: also refused, never misread.
        EXPECT_THROW(d.submit_named<double>("square", 5).get(), tide::task_error);
    });
}

TEST(Runtime, FutureWaitingAndReadiness) {
    with_tide([](tide::driver& d) {
        auto slow = d.submit(sleep_ms, 300);
        if (d.workers() > 0) {
            EXPECT_FALSE(slow.wait_for(std::chrono::milliseconds(1)));
            EXPECT_FALSE(slow.ready());
        } else {
            // On one rank, ready() runs the queued task on rank 0 itself.
            EXPECT_TRUE(slow.ready());
        }
        EXPECT_TRUE(slow.wait_for(std::chrono::seconds(30)));
        EXPECT_TRUE(slow.ready());
        EXPECT_EQ(slow.get(), 300);
    });
}

// A quick task's result must not wait behind a long task the same worker starts next (at two
// ranks both land on the one worker, in one batch).
TEST(Runtime, QuickResultIsNotHeldBehindALongTask) {
    with_tide([](tide::driver& d) {
        auto both = d.submit_all(sleep_ms, std::vector{0, 2000});  // one batch
        const auto start = std::chrono::steady_clock::now();
        EXPECT_TRUE(both[0].wait_for(std::chrono::milliseconds(1500)));
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        EXPECT_EQ(both[0].get(), 0);
        EXPECT_LT(s, 1.5);
        EXPECT_EQ(both[1].get(), 2000);
    });
}

// A large result must reach rank 0 while its worker is busy with the next, long task (over TCP
// the transfer needs the sender to keep calling MPI: the worker's keeper thread does).
TEST(Runtime, LargeResultArrivesWhileWorkerIsBusy) {
    with_tide([](tide::driver& d) {
        using job = std::tuple<std::size_t, int>;
        auto fs = d.submit_all(blob_after, std::vector<job>{{16u << 20, 0}, {1, 2500}});
        EXPECT_TRUE(fs[0].wait_for(std::chrono::milliseconds(2000)));
        const auto big = fs[0].get();
        ASSERT_EQ(big.size(), 16u << 20);
        EXPECT_EQ(big.back(), 7);
        EXPECT_EQ(fs[1].get().size(), 1u);
    });
}

// More work than the workers' prefetch, then the driver computes without calling tide: rank 0's
// background thread must keep the workers fed, so the results are all in by the time the driver
// asks. (On one rank the documented opposite: tasks run only inside waits.)
TEST(Runtime, WorkFlowsWhileTheDriverComputes) {
    with_tide([](tide::driver& d) {
        auto fs = d.submit_all(sleep_ms, std::vector<int>(1000, 1));  // 1 s on one worker
        const auto busy_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1800);
        while (std::chrono::steady_clock::now() < busy_until) {
        }
        const auto start = std::chrono::steady_clock::now();
        tide::wait_all(fs);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (d.workers() > 0)
            EXPECT_LT(s, 0.5) << "the workers starved while the driver computed";
        else
            EXPECT_GT(s, 0.8) << "on one rank, tasks run only inside waits";
    });
}

TEST(Runtime, VoidTasksAndCStrings) {
    with_tide([](tide::driver& d) {
        d.map(touch, std::vector{1, 2, 3});  // map of a void task returns nothing
        auto fs = d.submit_all(touch, std::vector{4, 5});
        tide::get_all(fs);
        d.submit(touch, 6).get();
        EXPECT_EQ(d.submit(greet, "ada").get(), "hello ada");
        EXPECT_EQ(d.submit_named<std::string>("greet", "bob").get(), "hello bob");
    });
}

TEST(Runtime, FutureMisuseIsAClearError) {
    tide::future<int> kept;
    with_tide([&kept](tide::driver& d) {
        tide::future<int> empty;
        EXPECT_FALSE(empty.valid());
        EXPECT_THROW(empty.ready(), tide::error);
        EXPECT_THROW(empty.wait(), tide::error);
        auto f = d.submit(square, 4);
        auto g = std::move(f);
        EXPECT_THROW(f.ready(), tide::error);  // moved from
        EXPECT_EQ(g.get(), 16);
        kept = d.submit(square, 5);  // kept past the end of the run: misuse
    });
    // On rank 0 the future's run is over; elsewhere it never had a task. Either way: an error.
    EXPECT_THROW(kept.get(), tide::error);
}

// Polling ready() alone must finish the task, on one rank too (there rank 0 runs it).
TEST(Runtime, PollingReadyMakesProgress) {
    with_tide([](tide::driver& d) {
        auto f = d.submit(square, 9);
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!f.ready() && std::chrono::steady_clock::now() < give_up) {
        }
        ASSERT_TRUE(f.ready());
        EXPECT_EQ(f.get(), 81);
    });
}

// wait_for keeps its deadline even when rank 0 runs the tasks itself.
TEST(Runtime, WaitForKeepsItsDeadline) {
    with_tide([](tide::driver& d) {
        auto fs = d.submit_all(sleep_ms, std::vector<int>(40, 25));  // 1 s of work
        const auto start = std::chrono::steady_clock::now();
        EXPECT_FALSE(fs.back().wait_for(std::chrono::milliseconds(50)));
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        EXPECT_LT(s, 0.5);
        tide::wait_all(fs);
    });
}

TEST(Runtime, DroppedFuturesDoNotDisturbOthers) {
    with_tide([](tide::driver& d) {
        for (int i = 0; i < 1000; ++i) (void)d.submit(square, i);  // dropped at once
        auto kept = d.submit_all(square, std::vector{1, 2, 3});
        tide::wait_all(kept);
        for (auto& f : kept) EXPECT_TRUE(f.ready());
        EXPECT_EQ(tide::get_all(kept), (std::vector<int>{1, 4, 9}));
    });
}

// The driver returns with plenty of work still queued: the run must end promptly (workers drop
// what they hold), not after the 20 s of queued work.
TEST(Runtime, ShutdownWithWorkStillQueued) {
    const auto start = std::chrono::steady_clock::now();
    with_tide([](tide::driver& d) {
        std::vector<int> ms(400, 50);
        auto fs = d.submit_all(sleep_ms, ms);
        (void)fs;
    });
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(s, 8.0) << "shutdown waited for queued work";
}

// An idle worker and an idle rank 0 must not burn a core. Measured as CPU time over two seconds
// of idleness: rank 0's whole process (driver thread plus background progress thread), and a
// worker's, read by a task before and after. Registered at 2 ranks only (one worker, so both
// readings come from the same process).
TEST(Idle, RanksUseAlmostNoCpuWhenIdle) {
    with_tide([](tide::driver& d) {
        ASSERT_EQ(d.workers(), 1) << "run this test with exactly two ranks";
        const double worker_before = d.submit(process_cpu_seconds, 0).get();
        const double driver_before = process_cpu_seconds(0);
        std::this_thread::sleep_for(std::chrono::seconds(2));
        const double driver_used = process_cpu_seconds(0) - driver_before;
        const double worker_used = d.submit(process_cpu_seconds, 0).get() - worker_before;
        std::printf("idle CPU over 2 s: rank 0 %.4f s (%.2f%%), worker %.4f s (%.2f%%)\n",
                    driver_used, driver_used / 2 * 100, worker_used, worker_used / 2 * 100);
        EXPECT_LT(driver_used, 0.1);  // under 5% of a core
        EXPECT_LT(worker_used, 0.1);
    });
}

// Rank 0 blocked in get() on a long task: the driver's wait must sleep, not spin.
TEST(Idle, WaitingDriverUsesAlmostNoCpu) {
    with_tide([](tide::driver& d) {
        auto long_task = d.submit(sleep_ms, 2000);
        const double before = process_cpu_seconds(0);
        EXPECT_EQ(long_task.get(), 2000);
        const double used = process_cpu_seconds(0) - before;
        std::printf("rank 0 CPU while waiting 2 s in get(): %.4f s (%.2f%%)\n", used,
                    used / 2 * 100);
        EXPECT_LT(used, 0.1);
    });
}

// The tries of a wait: prompt when it returned within 2 ms of its result's end, less the time
// the processes involved spent waiting for a core meanwhile.
struct promptness {
    int tries = 0;
    int prompt = 0;
    std::string late;
    void add(const char* what, double after_ms, double queued_ms) {
        ++tries;
        const double own_ms = after_ms - queued_ms;
        if (own_ms <= 2.0)
            ++prompt;
        else
            late += " " + std::to_string(own_ms) + " ms";
        std::printf(
            "try %d: %s returned %.3f ms after the task ended, %.3f ms of it waiting for "
            "a core\n",
            tries, what, after_ms, queued_ms);
    }
};

// A finished task is seen at once: one 20 ms task in flight at a time, get() returns within
// 2 ms of the task's end in at least 9 of 10 tries. Before, a wait slept up to 5 ms twice over
// (its own backoff, and Open MPI's probe seeing a message only one poll after it came), so
// get() came 5-10 ms late; it is now tens of microseconds.
// The bound: 2 ms is 40 times the usual lateness and under the 5 ms sleeps of the old wait.
// What the kernel adds is left out: on a loaded 2-core machine a thread that is ready to run
// can wait milliseconds for a core (measured: 0.1-5.8 ms beside one busy process), and that
// time is on the runtime's threads' run queues (schedstat), not in a sleep of tide's. So each
// try's lateness is less the run-queue time rank 0 and the worker gained between the task's
// end and get()'s return; it counts sleeping, polling and messaging, which are tide's own.
// The first run of the task is not counted: with no estimate yet, its wait is the usual
// backoff, within a quarter of its length.
TEST(Wait, FinishedTaskIsSeenWithinTwoMilliseconds) {
    with_tide([](tide::driver& d) {
        ASSERT_GE(d.workers(), 1) << "run this test with a worker";
        const int self = static_cast<int>(getpid());
        (void)d.submit(spin_ms_noting_run_queue, 20, std::vector<int>{self}).get();
        promptness waits;
        for (int i = 0; i < 10; ++i) {
            const auto noted = d.submit(spin_ms_noting_run_queue, 20, std::vector<int>{self}).get();
            const std::int64_t returned = steady_ns();
            const int worker = static_cast<int>(noted[1]);
            const double after_ms = static_cast<double>(returned - noted[0]) / 1e6;
            const double queued_ms =
                static_cast<double>(run_queue_ns(worker) + run_queue_ns(self) - noted[2]) / 1e6;
            waits.add("get()", after_ms, queued_ms);
        }
        EXPECT_GE(waits.prompt, 9) << "late tries (less time waiting for a core):" << waits.late;
    });
}

// The same for a task's get() of a child another worker stole: its result goes through rank 0,
// which forwards it, to the parent's worker. Both wait for it knowing when it should come (rank
// 0 from its estimates of a task alone on its worker, the parent's worker from the forecast rank
// 0 sent it when the child went to the thief). Before, each hop slept up to 5 ms (3 ms late in
// the median at 10 ms). The first tries are not counted: no estimate yet. Also checked: an idle
// worker steals a child within the 20 ms its parent computes, in most tries.
TEST(Wait, StolenChildIsSeenWithinTwoMilliseconds) {
    with_tide([](tide::driver& d) {
        ASSERT_GE(d.workers(), 2) << "run this test with two workers";
        const int self = static_cast<int>(getpid());
        for (int i = 0; i < 3; ++i) (void)d.submit(parent_of_stolen_child, 20, self).get();
        promptness waits;  // of the stolen children
        for (int i = 0; i < 10; ++i) {
            const auto r = d.submit(parent_of_stolen_child, 20, self).get();
            if (r[0] == 0) continue;  // the parent ran its child itself
            waits.add("the parent's get() of a stolen child", static_cast<double>(r[1]) / 1e6,
                      static_cast<double>(r[2]) / 1e6);
        }
        EXPECT_GE(waits.tries, 7) << "an idle worker should steal the child of a busy parent";
        EXPECT_GE(waits.prompt, waits.tries - waits.tries / 10)
            << "late tries (less time waiting for a core):" << waits.late;
    });
}

// Arguments no MPI message can carry are refused at submit with a clear error, before anything
// is queued, and the run goes on. (2 GiB allocations: registered once, at two ranks.)
TEST(Limits, OversizedArgumentsAreRefused) {
    with_tide([](tide::driver& d) {
        std::vector<std::uint8_t> huge((std::size_t{1} << 31) + 1, 1);
        try {
            (void)d.submit(byte_count, huge);
            ADD_FAILURE() << "expected tide::error";
        } catch (const tide::error& e) {
            EXPECT_NE(std::string(e.what()).find("byte_count"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("larger than"), std::string::npos) << e.what();
        }
        huge.resize(1000);
        EXPECT_EQ(d.submit(byte_count, huge).get(), 1000u);
    });
}
