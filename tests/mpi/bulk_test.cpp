// Bulk submissions (map, submit_all): their tasks travel in ranges of many tasks, and every
// task must still behave as one submitted alone: its own result, in order, its own error, its
// own future (ready, get, share, dropped, another task's input), counted once. Run at 1, 2, 3
// and 5 ranks (ctest mpi_ranks_*), rank 0 running the ranges itself on a single rank.

#include <gtest/gtest.h>

#include <forward_list>
#include <list>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "with_tide.hpp"

namespace {

std::uint64_t triple_add_one(std::uint64_t i) { return 3 * i + 1; }
TIDE_TASK(triple_add_one);

std::string repeated(std::string s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}
TIDE_TASK(repeated);

long odd_fails(long x) {
    if (x % 2 != 0) throw std::runtime_error("odd input " + std::to_string(x));
    return x;
}
TIDE_TASK(odd_fails);

long sum_of_all(std::vector<long> xs) { return std::accumulate(xs.begin(), xs.end(), 0L); }
TIDE_TASK(sum_of_all);

long add_one(long x) { return x + 1; }
TIDE_TASK(add_one);

long squared(long x) { return x * x; }
TIDE_TASK(squared);

std::uint64_t worker_tasks(const tide::run_stats& s) {
    std::uint64_t n = 0;
    for (const auto& w : s.workers) n += w.tasks;
    return n;
}

}  // namespace

TEST(Bulk, MapOfManyShortTasksIsExactAndInOrder) {
    with_tide([](tide::driver& d) {
        std::vector<std::uint64_t> in(100'000);
        std::iota(in.begin(), in.end(), 0);
        const auto out = d.map(triple_add_one, in);
        ASSERT_EQ(out.size(), in.size());
        for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], 3 * i + 1) << i;
        const auto s = d.stats();
        EXPECT_EQ(s.submitted, 100'000u);
        EXPECT_EQ(s.ok, 100'000u);
        EXPECT_EQ(s.failed, 0u);
        EXPECT_EQ(s.outstanding, 0u);
        EXPECT_EQ(worker_tasks(s), 100'000u);  // each ran once, where the table says
    });
}

TEST(Bulk, ArgumentsAndResultsOfEverySize) {
    with_tide([](tide::driver& d) {
        std::vector<std::tuple<std::string, int>> in;
        for (int i = 0; i < 5000; ++i) in.emplace_back(std::string(1, char('a' + i % 26)), i % 7);
        const auto out = d.map(repeated, in);
        ASSERT_EQ(out.size(), in.size());
        for (int i = 0; i < 5000; ++i)
            ASSERT_EQ(out[static_cast<std::size_t>(i)],
                      std::string(static_cast<std::size_t>(i % 7), char('a' + i % 26)))
                << i;
        // A range that cannot tell its size, and an empty one.
        std::forward_list<long> evens;
        for (long x = 2998; x >= 0; x -= 2) evens.push_front(x);
        const auto squares = d.map(squared, evens);
        ASSERT_EQ(squares.size(), 1500u);
        EXPECT_EQ(squares[1499], 2998L * 2998L);
        EXPECT_TRUE(d.map(squared, std::vector<long>{}).empty());
        EXPECT_TRUE(d.submit_all(squared, std::list<long>{}).empty());
    });
}

TEST(Bulk, AFailureInsideARangeFailsOnlyItsTask) {
    with_tide([](tide::driver& d) {
        std::vector<long> in(10'000);
        std::iota(in.begin(), in.end(), 0L);
        auto fs = d.submit_all(odd_fails, in);
        for (long i = 0; i < 10'000; ++i) {
            auto& f = fs[static_cast<std::size_t>(i)];
            if (i % 2 == 0) {
                ASSERT_EQ(f.get(), i);
                continue;
            }
            try {
                f.get();
                ADD_FAILURE() << "task " << i << " should have failed";
            } catch (const tide::task_error& e) {
                ASSERT_EQ(e.reason(), tide::task_error::kind::threw);
                ASSERT_EQ(e.task_name(), "odd_fails");
                ASSERT_EQ(e.message(), "odd input " + std::to_string(i));
                if (d.workers() > 0) {
                    ASSERT_GE(e.rank(), 1);
                }
            }
        }
        try {
            d.map(odd_fails, in);
            ADD_FAILURE() << "map should have thrown";
        } catch (const tide::task_error& e) {
            EXPECT_EQ(e.message(), "odd input 1");  // the first failure, in order
        }
        const auto s = d.stats();
        EXPECT_EQ(s.ok, 10'000u);
        EXPECT_EQ(s.failed, 10'000u);
        EXPECT_EQ(s.outstanding, 0u);
    });
}

TEST(Bulk, FuturesOfARangeBehaveAsAnyFuture) {
    with_tide([](tide::driver& d) {
        std::vector<long> in(20'000);
        std::iota(in.begin(), in.end(), 0L);
        auto fs = d.submit_all(squared, in);
        fs[12'345].wait();
        EXPECT_TRUE(fs[12'345].ready());
        auto shared = fs[777].share();
        EXPECT_FALSE(fs[777].valid());
        EXPECT_EQ(shared.get(), 777L * 777);
        EXPECT_EQ(shared.get(), 777L * 777);  // read again
        for (std::size_t i = fs.size(); i-- > 0;) {
            if (i == 777) continue;
            if (i % 3 == 0) {
                fs[i] = {};  // dropped without get()
                continue;
            }
            ASSERT_EQ(fs[i].get(), static_cast<long>(i * i)) << i;
            ASSERT_FALSE(fs[i].valid());
        }
        EXPECT_THROW(fs[1].get(), tide::error);  // collected already
        // The submission is over once its last future is: another one starts afresh.
        EXPECT_EQ(d.map(squared, std::vector<long>(5000, 3)), std::vector<long>(5000, 9));
        EXPECT_EQ(d.stats().outstanding, 0u);
    });
}

TEST(Bulk, TasksOfARangeAreOtherTasksInputs) {
    with_tide([](tide::driver& d) {
        std::vector<long> in(10'000);
        std::iota(in.begin(), in.end(), 0L);
        const long expected =
            std::accumulate(in.begin(), in.end(), 0L, [](long a, long x) { return a + x * x; });
        // Taken as inputs while most of them still run, then once all have finished.
        for (const bool finished_first : {false, true}) {
            auto fs = d.submit_all(squared, in);
            if (finished_first) tide::wait_all(fs);
            auto next = fs[9'999].then(add_one);
            std::vector<tide::shared_future<long>> all;
            for (auto& f : fs)
                if (f.valid()) all.push_back(f.share());
            auto total = d.submit(sum_of_all, all);
            EXPECT_EQ(next.get(), 9'999L * 9'999 + 1);
            EXPECT_EQ(total.get(), expected - 9'999L * 9'999);
            EXPECT_EQ(all[5].get(), 25);  // the inputs' own futures still read them
        }
        // An input that failed fails its consumer with its own error.
        auto fs = d.submit_all(odd_fails, in);
        try {
            d.submit(add_one, std::move(fs[4'001])).get();
            ADD_FAILURE() << "the consumer of a failed task should fail";
        } catch (const tide::task_error& e) {
            EXPECT_NE(std::string(e.what()).find("odd input 4001"), std::string::npos) << e.what();
        }
    });
}
