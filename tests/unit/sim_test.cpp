// tide-sim's own checks: every task is done once whatever happens (ranges, deaths, leaders),
// its clock adds up where the answer is known (one worker, constant tasks), and each modelled
// part does what it models: ranges cut rank 0's messages, a death costs a rerun, a hung spawn
// never joins, a tree's nodes are all run and stolen, leaders take messages off rank 0.

#include <gtest/gtest.h>

#include "simulator.hpp"

using namespace tide::sim;

namespace {
sim_config bulk(std::size_t workers, std::size_t tasks, double mean) {
    sim_config c;
    c.workers = workers;
    c.tasks = tasks;
    c.service.mean = mean;
    return c;
}
}  // namespace

TEST(Sim, OneWorkerTakesTheSumOfItsTasks) {
    auto c = bulk(1, 10'000, 1e-4);
    const auto r = simulate(c);
    EXPECT_EQ(r.tasks_done, 10'000u);
    const double work = 10'000 * (1e-4 + c.cost.worker_per_task);
    EXPECT_GE(r.makespan, work);
    EXPECT_LE(r.makespan, work * 1.01);  // rank 0 keeps one worker fed: the pipe never drains
    EXPECT_LT(r.idle_fraction, 0.01);
}

TEST(Sim, RangesTakeMessagesOffRank0) {
    auto c = bulk(4, 200'000, 1e-6);
    const auto ranged = simulate(c);
    c.ranges = false;
    const auto single = simulate(c);
    EXPECT_EQ(ranged.tasks_done, 200'000u);
    EXPECT_EQ(single.tasks_done, 200'000u);
    EXPECT_LT(ranged.records * 50, single.records);
    EXPECT_LT(ranged.rank0_busy * 5, single.rank0_busy);
    EXPECT_LT(ranged.makespan, single.makespan);
}

TEST(Sim, IncrementalDispatchSharesAsTheScanDoes) {
    auto c = bulk(8, 50'000, 2e-5);
    c.service.kind = service_kind::exponential;
    const auto scan = simulate(c);
    c.incremental_dispatch = true;
    const auto heap = simulate(c);
    EXPECT_EQ(heap.tasks_done, scan.tasks_done);
    EXPECT_NEAR(heap.makespan, scan.makespan, 0.02 * scan.makespan);
}

TEST(Sim, ADeadWorkersTasksRunAgain) {
    auto c = bulk(4, 40'000, 1e-4);
    c.deaths = {0.2};
    const auto r = simulate(c);
    EXPECT_EQ(r.deaths, 1u);
    EXPECT_EQ(r.tasks_done, 40'000u);
    EXPECT_GT(r.tasks_rerun, 0u);
    // Three workers do the rest, after a heartbeat's wait for the lost tasks.
    EXPECT_GT(r.makespan, 40'000 * 1e-4 / 4);
}

TEST(Sim, SpawnsJoinAfterTheirLatencyAndHungOnesNever) {
    auto c = bulk(1, 20'000, 1e-3);  // 20 s of work for one worker
    c.max_workers = 8;
    c.spawn_seconds = 0.5;
    const auto grown = simulate(c);
    EXPECT_GT(grown.spawns, 0u);
    EXPECT_GT(grown.peak_workers, 1u);
    EXPECT_LT(grown.makespan, 10.0);
    c.spawn_hang = 1.0;
    const auto hung = simulate(c);
    EXPECT_EQ(hung.spawns, hung.spawns_hung);
    EXPECT_EQ(hung.peak_workers, 1u);
    EXPECT_EQ(hung.tasks_done, 20'000u);
}

TEST(Sim, ATreeRunsEveryNodeAndIsStolen) {
    sim_config c;
    c.workers = 4;
    c.service.kind = service_kind::tree;
    c.service.mean = 1e-5;
    c.service.root_children = 400;
    c.service.q = 0.12;
    c.service.children = 8;
    const auto r = simulate(c);
    EXPECT_GT(r.steals, 0u);
    EXPECT_LT(r.idle_fraction, 0.5);
    EXPECT_GT(r.makespan, 0.0);
}

TEST(Sim, LeadersTakeMessagesOffRank0) {
    auto c = bulk(64, 500'000, 1e-5);
    const auto flat = simulate(c);
    c.per_leader = 16;
    const auto led = simulate(c);
    EXPECT_EQ(led.tasks_done, 500'000u);
    EXPECT_LT(led.rank0_messages * 4, flat.rank0_messages);
}

TEST(Sim, TheSameSeedGivesTheSameRun) {
    auto c = bulk(16, 30'000, 1e-4);
    c.service.kind = service_kind::lognormal;
    const auto a = simulate(c), b = simulate(c);
    EXPECT_EQ(a.makespan, b.makespan);
    EXPECT_EQ(a.events, b.events);
}
