#include "tide/scheduler/central_queue.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace tide::sched;

namespace {

constexpr double no_end = std::numeric_limits<double>::infinity();
constexpr std::uint64_t short_task = 1, long_task = 2;

struct CentralQueue : ::testing::Test {
    task_table tasks;
    load_estimator estimator{1.0};  // alpha 1: the mean is the latest sample
    central_queue queue;

    void SetUp() override {
        estimator.record_durations(short_task, 1, 1.0, 1.0);   // 1 s
        estimator.record_durations(long_task, 1, 100.0, 1e4);  // 100 s
    }
    task_id add(std::uint64_t name, std::uint8_t losses = 0) {
        task_record r;
        r.name_hash = name;
        r.losses = losses;
        const auto id = tasks.insert(std::move(r));
        estimator.queued_centrally(name, 1);
        return id;
    }
    std::vector<task_id> take(std::size_t count, double window, bool alone_ok = true) {
        std::vector<task_id> out;
        passed = queue.take(count, window, alone_ok, tasks, estimator, out);
        return out;
    }
    bool passed = false;
};

}  // namespace

TEST_F(CentralQueue, TakesFromTheHeadInSubmissionOrder) {
    const auto a = add(short_task), b = add(long_task), c = add(short_task);
    for (auto id : {a, b, c}) queue.push(id, 1);
    EXPECT_EQ(take(2, no_end), (std::vector<task_id>{a, b}));
    EXPECT_FALSE(passed);
    EXPECT_EQ(take(5, no_end), (std::vector<task_id>{c}));
    EXPECT_TRUE(queue.empty());
}

TEST_F(CentralQueue, AWorkerThatJoinedLatePassesOverTasksThatCouldNotFinish) {
    const auto a = add(long_task), b = add(short_task), c = add(long_task);
    for (auto id : {a, b, c}) queue.push(id, 1);
    // Joined with 10 s left: the 100 s tasks stay, in their places, for others.
    EXPECT_EQ(take(3, 10.0), (std::vector<task_id>{b}));
    EXPECT_TRUE(passed);
    EXPECT_EQ(take(3, no_end), (std::vector<task_id>{a, c}));
}

TEST_F(CentralQueue, NothingFitsAndNothingIsTaken) {
    queue.push(add(long_task), 1);
    EXPECT_TRUE(take(1, 10.0).empty());
    EXPECT_TRUE(passed);
    EXPECT_EQ(queue.size(), 1u);
}

TEST_F(CentralQueue, ASuspectGoesAloneAndOnlyToAWorkerWithNothingInHand) {
    const auto a = add(short_task), s = add(short_task, 1), b = add(short_task);
    queue.push(b, 1);
    const std::vector<task_id> back{a, s};  // a suspect comes back only with put_back
    queue.put_back(back, tasks);
    EXPECT_EQ(take(3, no_end), (std::vector<task_id>{a}));  // stops before the suspect
    EXPECT_TRUE(take(3, no_end, false).empty());            // a busy worker gets nothing
    EXPECT_EQ(take(3, no_end), (std::vector<task_id>{s}));  // alone
    EXPECT_EQ(take(3, no_end), (std::vector<task_id>{b}));
}

TEST_F(CentralQueue, TasksPutBackKeepTheirOrderAheadOfTheRest) {
    const auto a = add(short_task), b = add(short_task), c = add(short_task);
    queue.push(c, 1);
    const std::vector<task_id> back{a, b};
    queue.put_back(back, tasks);
    EXPECT_EQ(take(3, no_end), (std::vector<task_id>{a, b, c}));
}

TEST_F(CentralQueue, ASuspectPutBackIsHeldBackAndCanBeTakenOut) {
    const auto s = add(short_task, 2), a = add(short_task);
    queue.push(a, 1);
    const std::vector<task_id> back{s};
    queue.put_back(back, tasks);
    EXPECT_TRUE(take(1, no_end, false).empty());
    EXPECT_EQ(queue.take_suspect(tasks), s);
    EXPECT_EQ(queue.take_suspect(tasks), std::nullopt);  // the head is no suspect
    EXPECT_EQ(take(1, no_end, false), (std::vector<task_id>{a}));
}
