// The load estimator and victim choice, against hand-computed numbers.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tide/scheduler/load_estimator.hpp"

using namespace tide::sched;

TEST(Ewma, OneSampleAtATimeIsFinchsUpdate) {
    ewma_stats s;
    const double alpha = 0.5;
    s.add(1, 2.0, 4.0, alpha);
    EXPECT_DOUBLE_EQ(s.mean, 2.0);
    EXPECT_DOUBLE_EQ(s.variance, 0.0);
    s.add(1, 4.0, 16.0, alpha);
    // diff 2, mean 2 + 0.5 * 2 = 3, variance (1 - 0.5) * (0 + 0.5 * 4) = 1
    EXPECT_DOUBLE_EQ(s.mean, 3.0);
    EXPECT_DOUBLE_EQ(s.variance, 1.0);
    EXPECT_EQ(s.samples, 2u);
}

TEST(Ewma, ABatchMovesTheMeanAsFarAsItsSamplesWould) {
    ewma_stats one_by_one, batched;
    const double alpha = 0.2;
    one_by_one.add(1, 1.0, 1.0, alpha);
    batched.add(1, 1.0, 1.0, alpha);
    for (int i = 0; i < 5; ++i) one_by_one.add(1, 3.0, 9.0, alpha);
    batched.add(5, 15.0, 45.0, alpha);
    EXPECT_NEAR(batched.mean, one_by_one.mean, 1e-12);
    EXPECT_NEAR(batched.mean, 3.0 - 2.0 * std::pow(0.8, 5), 1e-12);
}

TEST(Ewma, TracksAChangeInDuration) {
    ewma_stats s;
    for (int i = 0; i < 50; ++i) s.add(1, 0.001, 1e-6, 0.2);
    s.add(1, 0.010, 1e-4, 0.2);
    EXPECT_DOUBLE_EQ(s.latest, 0.010);  // at once
    EXPECT_NEAR(s.mean, 0.0028, 1e-12);
    for (int i = 1; i < 50; ++i) s.add(1, 0.010, 1e-4, 0.2);
    EXPECT_NEAR(s.mean, 0.010, 1e-6);
    s.add(2, 0.006, 0.00002, 0.2);
    EXPECT_DOUBLE_EQ(s.latest, 0.003);  // a batch's mean
}

TEST(LoadEstimator, BacklogFromQueuedTasksAndDurations) {
    load_estimator e(0.5);
    e.resize(2);
    e.record_durations(7, 4, 0.4, 0.04);  // name 7: 0.1 s each
    e.record_durations(9, 2, 2.0, 2.0);   // name 9: 1 s each
    e.queued_centrally(7, 10);
    e.queued_centrally(9, 1);
    EXPECT_NEAR(e.central_backlog_seconds(), 10 * 0.1 + 1.0, 1e-12);
    e.queued_centrally(7, -10);
    EXPECT_NEAR(e.central_backlog_seconds(), 1.0, 1e-12);

    // Worker 0: 3 tasks in hand, 5 queued, busy 0.5 s of 1 s running 10 tasks: 0.05 s a task.
    e.set_in_hand(0, 3);
    e.record_status(0, 5, 0.5, 1.0, 10);
    const auto s = e.snapshot();
    ASSERT_EQ(s.workers.size(), 2u);
    EXPECT_NEAR(s.workers[0].task_seconds, 0.05, 1e-12);
    EXPECT_NEAR(s.workers[0].backlog_seconds, 8 * 0.05, 1e-12);
    EXPECT_NEAR(s.workers[0].busy_fraction, 0.5 * 0.5, 1e-12);  // EWMA from 0
    EXPECT_EQ(s.workers[1].backlog_seconds, 0.0);
    EXPECT_EQ(s.central_queued, 1u);
    EXPECT_NEAR(s.total_backlog_seconds, 1.0 + 0.4, 1e-12);
}

TEST(LoadEstimator, UnknownNamesUseTheOverallMean) {
    load_estimator e;
    e.resize(1);
    e.record_durations(1, 3, 0.3, 0.03);  // 0.1 s
    e.record_durations(2, 1, 0.5, 0.25);  // 0.5 s
    EXPECT_NEAR(e.overall_task_seconds(), (0.1 * 3 + 0.5) / 4, 1e-12);
    e.queued_centrally(3, 4);  // never ran: estimated at the overall mean
    EXPECT_NEAR(e.central_backlog_seconds(), 4 * 0.2, 1e-12);
}

// Late in a job: which queued tasks could still finish. A name never run is not held back.
TEST(LoadEstimator, QueuedWorkThatFitsBeforeAnEnd) {
    load_estimator e;
    e.record_durations(1, 1, 0.5, 0.25);    // 0.5 s
    e.record_durations(2, 1, 10.0, 100.0);  // 10 s
    e.queued_centrally(1, 4);
    e.queued_centrally(2, 2);
    e.queued_centrally(3, 1);  // unknown: the overall mean, 5.25 s
    EXPECT_TRUE(e.fits(1, 3.0));
    EXPECT_FALSE(e.fits(2, 3.0));
    EXPECT_TRUE(e.fits(3, 3.0));
    auto w = e.central_fitting(3.0);
    EXPECT_EQ(w.tasks, 5u);
    EXPECT_NEAR(w.seconds, 4 * 0.5 + 5.25, 1e-12);
    w = e.central_fitting(10.0);  // everything
    EXPECT_EQ(w.tasks, 7u);
    EXPECT_NEAR(w.seconds, e.central_backlog_seconds(), 1e-12);
    w = e.central_fitting(-1.0);  // the end has passed: only the unknown one
    EXPECT_EQ(w.tasks, 1u);
    EXPECT_DOUBLE_EQ(e.longest_queued_mean(), 10.0);
    e.queued_centrally(2, -2);  // the long ones leave the queue
    EXPECT_DOUBLE_EQ(e.longest_queued_mean(), 0.5);
}

TEST(Victim, MostBacklogFirst) {
    std::vector<worker_estimate> w(4);
    w[0].hungry = true;                                             // the thief
    w[1].in_hand = 1, w[1].queued = 4, w[1].task_seconds = 0.01;    // 0.05 s
    w[2].in_hand = 1, w[2].queued = 2, w[2].task_seconds = 0.1;     // 0.3 s
    w[3].in_hand = 1, w[3].queued = 20, w[3].task_seconds = 0.001;  // 0.021 s
    EXPECT_EQ(pick_victim(w, 0, std::vector<bool>(4)), 2u);
}

TEST(Victim, SkipsTheThiefTheHungryTheExcludedAndTheIdle) {
    std::vector<worker_estimate> w(4);
    w[1].in_hand = 5, w[1].hungry = true;  // asked for work itself: stale numbers
    w[2].in_hand = 9;                      // excluded below (dry, or already being robbed)
    // w[3] holds nothing
    std::vector<bool> excluded{false, false, true, false};
    EXPECT_FALSE(pick_victim(w, 0, excluded));
    excluded[2] = false;
    EXPECT_EQ(pick_victim(w, 0, excluded), 2u);
    EXPECT_FALSE(pick_victim(w, 2, excluded));  // a thief never robs itself
}

TEST(Victim, WithoutDurationsTheMostTasks) {
    std::vector<worker_estimate> w(3);
    w[1].in_hand = 1;
    w[2].in_hand = 1, w[2].queued = 6;
    EXPECT_EQ(pick_victim(w, 0, std::vector<bool>(3)), 2u);
}

// Close estimates: the nearest victim (same NUMA node, then same host) wins; a clearly larger
// backlog further away still wins over a small one nearby.
TEST(Victim, NearestAmongCloseEstimates) {
    std::vector<worker_estimate> w(4);
    w[1].in_hand = 10, w[1].task_seconds = 0.1;  // 1.0 s, another host
    w[2].in_hand = 9, w[2].task_seconds = 0.1;   // 0.9 s, same host
    w[3].in_hand = 9, w[3].task_seconds = 0.1;   // 0.9 s, same NUMA node
    const std::vector<bool> none(4);
    const std::vector<int> distance{0, 2, 1, 0};
    EXPECT_EQ(pick_victim(w, 0, none, distance), 3u);
    EXPECT_EQ(pick_victim(w, 0, none), 1u);  // no distances: the most backlog
    w[3].in_hand = 4;                        // 0.4 s: not close any more
    w[2].in_hand = 4;
    EXPECT_EQ(pick_victim(w, 0, none, distance), 1u);
    w[2].in_hand = 9;  // the same host, close again
    EXPECT_EQ(pick_victim(w, 0, none, distance), 2u);
}
