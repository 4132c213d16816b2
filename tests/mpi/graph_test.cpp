// Task graphs end to end, at 1, 2, 3 and 5 ranks: futures as arguments of the driver's tasks
// (readiness counted on rank 0) and of nested tasks (counted on the submitting worker).
// Every value is checked against the plain computation.

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <tide/tide.hpp>

#include "with_tide.hpp"

namespace {

long add(long a, long b) { return a + b; }
TIDE_TASK(add);
long plus_one(long a) { return a + 1; }
TIDE_TASK(plus_one);
long twice(const long& a) { return 2 * a; }
TIDE_TASK(twice);
long sum_all(const std::vector<long>& xs) { return std::accumulate(xs.begin(), xs.end(), 0L); }
TIDE_TASK(sum_all);
long fails_on(long a, long bad) {
    if (a == bad) throw std::runtime_error("input " + std::to_string(a) + " is bad");
    return a;
}
TIDE_TASK(fails_on);
std::string label(const std::string& prefix, long n) { return prefix + std::to_string(n); }
TIDE_TASK(label);
std::vector<double> spread_of(long n) {
    return std::vector<double>(static_cast<std::size_t>(n), 0.5);
}
TIDE_TASK(spread_of);
double weight(const std::vector<double>& xs, double w) {
    return w * std::accumulate(xs.begin(), xs.end(), 0.0);
}
TIDE_TASK(weight);

std::vector<long> grow(const std::vector<long>& xs) {
    std::vector<long> out(xs);
    for (auto& x : out) ++x;
    return out;
}
TIDE_TASK(grow);
long refuses(long, long) { throw std::runtime_error("this step refuses"); }
TIDE_TASK(refuses);

int world_size() {
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

TEST(Graph, DiamondOfTheDriver) {
    with_tide([](tide::driver& d) {
        auto top = d.submit(plus_one, 1L).share();  // 2
        auto left = d.submit(twice, top);           // 4
        auto right = d.submit(add, top, 10L);       // 12
        auto bottom = d.submit(add, std::move(left), std::move(right));
        EXPECT_FALSE(left.valid());  // used up
        EXPECT_EQ(bottom.get(), 16);
        EXPECT_EQ(top.get(), 2);  // a shared future reads any number of times
        EXPECT_EQ(top.get(), 2);
    });
}

TEST(Graph, LongChainOfTheDriverTakesNoStack) {
    with_tide([](tide::driver& d) {
        constexpr long depth = 100000;
        auto f = d.submit(plus_one, 0L);
        for (long i = 1; i < depth; ++i) f = d.submit(plus_one, std::move(f));
        EXPECT_EQ(f.get(), depth);
        EXPECT_EQ(d.stats().ok, static_cast<std::uint64_t>(depth));
    });
}

// Results too large for a worker's recent results (4 KiB): a task sent ahead after its input
// finished there goes back to rank 0, which feeds it itself.
TEST(Graph, ChainsOfLargeResults) {
    with_tide([](tide::driver& d) {
        constexpr long depth = 300;
        std::vector<tide::future<std::vector<long>>> chains;
        for (int c = 0; c < 4; ++c) {
            auto f = d.submit(grow, std::vector<long>(2000, c));
            for (long i = 1; i < depth; ++i) f = d.submit(grow, std::move(f));
            chains.push_back(std::move(f));
        }
        for (int c = 0; c < 4; ++c)
            EXPECT_EQ(chains[static_cast<std::size_t>(c)].get(),
                      std::vector<long>(2000, c + depth));
        const auto st = d.stats();
        EXPECT_EQ(st.ok, static_cast<std::uint64_t>(4 * depth));
        // With workers, the chains wait ahead on them (bounced or not, every task ran once).
        if (world_size() > 1) {
            EXPECT_GT(st.graph_sent_ahead, 0u);
        }
    });
}

// Results above --tide-keep-results (100 KiB by default) stay on the worker that made them: the
// next link of a chain reads its input there. Only get() (or a task placed on another worker)
// fetches one to rank 0; the others are released on their worker once the next link ran.
TEST(Graph, LargeResultsStayWhereTheyWereMade) {
    constexpr long depth = 40;
    constexpr std::size_t chains = 2, longs = 20000;  // 160 kB a result
    const auto run_chains = [&](tide::driver& d) {
        std::vector<tide::future<std::vector<long>>> ends;
        for (std::size_t c = 0; c < chains; ++c) {
            auto f = d.submit(grow, std::vector<long>(longs, static_cast<long>(c)));
            for (long i = 1; i < depth; ++i) f = d.submit(grow, std::move(f));
            ends.push_back(std::move(f));
        }
        for (std::size_t c = 0; c < chains; ++c)
            EXPECT_EQ(ends[c].get(), std::vector<long>(longs, static_cast<long>(c) + depth));
        return d.stats();
    };
    with_tide([&](tide::driver& d) {
        const auto st = run_chains(d);
        EXPECT_EQ(st.ok, chains * depth);
        if (world_size() == 1) {  // rank 0 runs them itself
            EXPECT_EQ(st.results_kept, 0u);
            return;
        }
        EXPECT_EQ(st.results_kept, chains * depth);
        EXPECT_EQ(st.results_kept_bytes, chains * depth * (longs + 1) * sizeof(long));
        // None is left behind: each was fetched once or released where it was kept.
        EXPECT_EQ(st.results_fetched + st.results_released, st.results_kept);
        EXPECT_EQ(st.results_remade, 0u);
        // One worker: every link ran where its input was kept, and only the get()s fetched.
        if (world_size() == 2) {
            EXPECT_EQ(st.results_fetched, chains);
            EXPECT_EQ(st.results_fetched_bytes, chains * (longs + 1) * sizeof(long));
        }
    });
    // Off: every result comes to rank 0.
    with_tide(
        [&](tide::driver& d) {
            const auto st = run_chains(d);
            EXPECT_EQ(st.results_kept, 0u);
            EXPECT_EQ(st.results_fetched, 0u);
        },
        {"--tide-keep-results=0"});
}

// One large kept result taken by many tasks, wherever they run, and read by get() too: it
// crosses to rank 0 once at most.
TEST(Graph, AKeptResultFansOutAndIsFetchedOnce) {
    with_tide([](tide::driver& d) {
        constexpr long n = 20000;  // 160 kB
        auto big = d.submit(spread_of, n).share();
        std::vector<tide::future<double>> parts;
        for (int i = 0; i < 64; ++i) parts.push_back(d.submit(weight, big, double(i)));
        for (int i = 0; i < 64; ++i)
            EXPECT_EQ(parts[static_cast<std::size_t>(i)].get(), i * 0.5 * n);
        EXPECT_TRUE(big.ready());
        EXPECT_EQ(big.get().size(), static_cast<std::size_t>(n));
        EXPECT_EQ(big.get().size(), static_cast<std::size_t>(n));
        if (world_size() == 1) return;
        const auto st = d.stats();
        EXPECT_EQ(st.results_kept, 1u);
        EXPECT_EQ(st.results_fetched, 1u);
        // A task submitted after it was fetched gets it from rank 0.
        EXPECT_EQ(d.submit(weight, big, 2.0).get(), 1.0 * n);
        EXPECT_EQ(d.stats().results_fetched, 1u);
    });
}

// Two columns, each step taking both of the step before: a failure at step 3 fails every later
// task, on both workers, with that failure's error (forwarded to the other worker).
TEST(Graph, AFailureInTheMiddleOfAGraphReachesEveryDependent) {
    with_tide([](tide::driver& d) {
        std::vector<tide::shared_future<long>> prev{d.submit(plus_one, 0L).share(),
                                                    d.submit(plus_one, 1L).share()};
        auto all = prev;
        for (int step = 1; step < 10; ++step) {
            std::vector<tide::shared_future<long>> now;
            for (int x = 0; x < 2; ++x)
                now.push_back((step == 3 && x == 0 ? d.submit(refuses, prev[0], prev[1])
                                                   : d.submit(add, prev[0], prev[1]))
                                  .share());
            all.insert(all.end(), now.begin(), now.end());
            prev = now;
        }
        for (const auto& f : all) f.wait();
        for (const auto& f : prev) {
            try {
                f.get();
                ADD_FAILURE() << "a task after the failure succeeded";
            } catch (const tide::task_error& e) {
                EXPECT_EQ(e.task_name(), "refuses");
                EXPECT_EQ(e.message(), "this step refuses");
            }
        }
        const auto st = d.stats();
        EXPECT_EQ(st.ok, 7u);       // steps 0-2, and step 3's other task
        EXPECT_EQ(st.failed, 13u);  // the refusal and the 12 tasks of steps 4-9
        EXPECT_EQ(d.submit(plus_one, 1L).get(), 2);
    });
}

TEST(Graph, WideFanInAndFanOut) {
    with_tide([](tide::driver& d) {
        constexpr long width = 10000;
        std::vector<tide::shared_future<long>> parts;
        for (long i = 0; i < width; ++i) parts.push_back(d.submit(plus_one, i).share());
        auto total = d.submit(sum_all, parts);
        // Fan-out: one shared result to many consumers.
        auto root = d.submit(plus_one, 41L).share();
        std::vector<tide::future<long>> uses;
        for (int i = 0; i < 1000; ++i) uses.push_back(d.submit(add, root, static_cast<long>(i)));
        EXPECT_EQ(total.get(), width * (width + 1) / 2);
        for (int i = 0; i < 1000; ++i) EXPECT_EQ(uses[static_cast<std::size_t>(i)].get(), 42 + i);
    });
}

TEST(Graph, InputsOfEveryKindKeepTheirPlace) {
    with_tide([](tide::driver& d) {
        auto n = d.submit(plus_one, 2L);
        auto text = d.submit(label, std::string("n="), std::move(n));
        EXPECT_EQ(text.get(), "n=3");
        auto xs = d.submit(spread_of, 4L);
        EXPECT_DOUBLE_EQ(d.submit(weight, std::move(xs), 3.0).get(), 6.0);
        // An input already finished when the task is submitted.
        auto done = d.submit(plus_one, 9L).share();
        done.wait();
        EXPECT_EQ(d.submit(twice, done).get(), 20);
    });
}

TEST(Graph, AFailedInputFailsItsDependentsNamingIt) {
    with_tide([](tide::driver& d) {
        auto bad = d.submit(fails_on, 3L, 3L).share();
        auto mid = d.submit(plus_one, bad);
        auto end = d.submit(add, std::move(mid), 1L);
        auto fine = d.submit(plus_one, 1L);
        auto joined = tide::when_all(std::move(end), std::move(fine));
        try {
            joined.get();
            ADD_FAILURE() << "a dependent of a failed task succeeded";
        } catch (const tide::task_error& e) {
            EXPECT_EQ(e.task_name(), "fails_on");
            EXPECT_EQ(e.reason(), tide::task_error::kind::threw);
            EXPECT_EQ(e.message(), "input 3 is bad");
        }
        EXPECT_THROW(bad.get(), tide::task_error);
        // The run goes on: the failure took nothing else with it.
        EXPECT_EQ(d.submit(plus_one, 1L).get(), 2);
        const auto st = d.stats();
        EXPECT_EQ(st.failed, 3u);  // fails_on, then plus_one and add, which did not run
    });
}

TEST(Graph, WhenAllThenAndAfter) {
    with_tide([](tide::driver& d) {
        auto [a, b] = tide::when_all(d.submit(plus_one, 1L), d.submit(twice, 5L)).get();
        EXPECT_EQ(a, 2);
        EXPECT_EQ(b, 10);
        std::vector<tide::shared_future<long>> fs;
        for (long i = 0; i < 8; ++i) fs.push_back(d.submit(twice, i).share());
        EXPECT_EQ(tide::when_all(fs).get(), (std::vector<long>{0, 2, 4, 6, 8, 10, 12, 14}));
        EXPECT_EQ(d.submit(plus_one, 4L).then(twice).then(add, 1L).get(), 11);
        auto first = d.submit(plus_one, 0L);
        auto second = d.submit(tide::after(first, fs), plus_one, 100L);
        EXPECT_TRUE(first.valid());  // ordering does not use a future up
        EXPECT_EQ(second.get(), 101);
        EXPECT_TRUE(first.ready());
        EXPECT_EQ(first.get(), 1);
    });
}

TEST(Graph, BadInputsGetClearErrors) {
    with_tide([](tide::driver& d) {
        tide::future<long> empty;
        EXPECT_THROW(d.submit(plus_one, std::move(empty)), tide::error);
        auto once = d.submit(plus_one, 1L);
        EXPECT_EQ(once.get(), 2);
        EXPECT_THROW(d.submit(plus_one, std::move(once)), tide::error);
        std::vector<tide::shared_future<long>> none;
        EXPECT_THROW(tide::when_all(none), tide::error);
        // The run is unharmed.
        EXPECT_EQ(d.submit(plus_one, 1L).get(), 2);
    });
}

// A graph run again with the journal of its first run: every task, whose arguments are its
// inputs' results, is answered from the journal, and nothing runs.
TEST(Graph, AGraphResumesFromTheJournal) {
    const char* job = std::getenv("PMIX_NAMESPACE");
    const std::string path =
        "/tmp/tide-graph-journal-" + std::string(job ? job : "single") + ".jrnl";
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) std::remove(path.c_str());
    constexpr long depth = 20;
    const auto chain = [](tide::driver& d) {
        auto f = d.submit(plus_one, 0L).share();
        auto side = d.submit(twice, f);
        for (long i = 1; i < depth; ++i) f = d.submit(plus_one, f).share();
        return tide::when_all(f, std::move(side)).get();
    };
    for (int round = 0; round < 2; ++round)
        with_tide(
            [&](tide::driver& d) {
                EXPECT_EQ(chain(d), std::make_tuple(depth, 2L));
                const auto st = d.stats();
                EXPECT_EQ(st.resumed, round == 0 ? 0u : static_cast<std::uint64_t>(depth + 1));
                EXPECT_EQ(st.ok, round == 0 ? static_cast<std::uint64_t>(depth + 1) : 0u);
            },
            {"--tide-journal=" + path});
    if (rank == 0) std::remove(path.c_str());
}

// --- graphs built inside tasks ---------------------------------------------------------------

long nested_diamond(long x) {
    auto top = tide::submit(plus_one, x).share();
    auto left = tide::submit(twice, top);
    auto right = tide::submit(add, top, 10L);
    return tide::submit(add, std::move(left), std::move(right)).get();
}
TIDE_TASK(nested_diamond);

long nested_chain(long depth) {
    auto f = tide::submit(plus_one, 0L);
    for (long i = 1; i < depth; ++i) f = tide::submit(plus_one, std::move(f));
    return f.get();
}
TIDE_TASK(nested_chain);

long nested_fan_in(long width) {
    std::vector<tide::shared_future<long>> parts;
    for (long i = 0; i < width; ++i) parts.push_back(tide::submit(plus_one, i).share());
    auto total = tide::submit(sum_all, parts);
    auto gathered = tide::when_all(parts).then(sum_all);
    auto [a, b] = tide::when_all(std::move(total), std::move(gathered)).get();
    return a == b ? a : -1;
}
TIDE_TASK(nested_fan_in);

long nested_failure(long bad) {
    auto x = tide::submit(fails_on, bad, bad);
    auto y = tide::submit(plus_one, std::move(x));
    try {
        return y.get();
    } catch (const tide::task_error& e) {
        return e.task_name() == "fails_on" && e.message() == "input 7 is bad" ? -7 : -1;
    }
}
TIDE_TASK(nested_failure);

long nested_after(long n) {
    auto first = tide::submit(plus_one, n);
    auto second = tide::submit(tide::after(first), plus_one, n);
    const long b = second.get();
    return first.ready() ? b : -1;
}
TIDE_TASK(nested_after);

TEST(Graph, GraphsInsideTasks) {
    with_tide([](tide::driver& d) {
        EXPECT_EQ(d.submit(nested_diamond, 1L).get(), 16);
        EXPECT_EQ(d.submit(nested_chain, 100000L).get(), 100000);
        EXPECT_EQ(d.submit(nested_fan_in, 10000L).get(), 10000L * 10001L / 2);
        EXPECT_EQ(d.submit(nested_failure, 7L).get(), -7);
        EXPECT_EQ(d.submit(nested_after, 5L).get(), 6);
        // Many at once, so that idle workers steal the ready parts of each other's graphs.
        std::vector<tide::future<long>> many;
        for (long i = 0; i < 64; ++i) many.push_back(d.submit(nested_diamond, i));
        for (long i = 0; i < 64; ++i)
            EXPECT_EQ(many[static_cast<std::size_t>(i)].get(), 2 * (i + 1) + (i + 1) + 10);
    });
}

}  // namespace
