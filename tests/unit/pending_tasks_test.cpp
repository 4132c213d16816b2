// A worker's graph tasks sent ahead (worker/pending_tasks): inputs made here or forwarded,
// results recalled for a task that came after its input finished, tasks sent back, failures
// spread along a chain.

#include "worker/pending_tasks.hpp"

#include <gtest/gtest.h>

#include <set>
#include <tuple>
#include <vector>

#include "exec/executor.hpp"

using namespace tide::detail;
namespace wire = tide::wire;

namespace {

bytes encoded(int v) {
    bytes out;
    append_values(out, v);
    return out;
}

wire::pending_task task(std::uint64_t id, std::vector<wire::graph_input> inputs) {
    return {id, 0x1111, 0x2222, {}, std::move(inputs)};
}

TEST(PendingTasks, ALocalAndAForwardedInputMakeATaskReady) {
    kept_results kept(0);
    pending_tasks p(1, "node", kept);
    wire::pending_batch b{7, 0, {task(10, {{0, 1, 1}, {0, 2, 0}})}};
    std::vector<std::uint64_t> back;
    p.accept(
        b, [](std::uint64_t id) { return id == 1; }, back);
    EXPECT_TRUE(back.empty());
    EXPECT_TRUE(p.awaited(1));
    std::vector<pending_tasks::failed_task> failed;
    p.finished(1, 0, tide::sched::outcome::ok, encoded(4), failed);
    EXPECT_FALSE(p.ready());
    p.forwarded({10, 2, 0, encoded(5)}, failed);
    ASSERT_TRUE(p.ready());
    const auto t = p.take_ready();
    EXPECT_EQ(t.id, 10u);
    EXPECT_EQ((read_value<std::tuple<int, int>>(t.arguments)), std::make_tuple(4, 5));
    EXPECT_TRUE(failed.empty());
}

TEST(PendingTasks, AnInputThatFinishedBeforeIsRecalledOrTheTaskSentBack) {
    kept_results kept(0);
    pending_tasks p(1, "node", kept);
    p.remember(5, encoded(8));  // no graph task has come yet: not kept
    wire::pending_batch first{6, 0, {}};
    std::vector<std::uint64_t> none;
    p.accept(
        first, [](std::uint64_t) { return false; }, none);
    p.remember(1, encoded(9));
    wire::pending_batch b{
        7, 0, {task(10, {{0, 1, 1}}), task(11, {{0, 3, 1}}), task(12, {{0, 5, 1}})}};
    std::vector<std::uint64_t> back;
    p.accept(
        b, [](std::uint64_t) { return false; }, back);
    // 3 is neither here nor remembered; 5 finished before graph tasks came.
    EXPECT_EQ(back, (std::vector<std::uint64_t>{11, 12}));
    ASSERT_TRUE(p.ready());
    EXPECT_EQ(read_value<int>(p.take_ready().arguments), 9);
}

TEST(PendingTasks, AFailureFailsTheWholeChainWithTheFirstError) {
    kept_results kept(0);
    pending_tasks p(3, "node", kept);
    // 10 takes 1 (made here); 11 takes 10; 12 takes 11.
    wire::pending_batch b{
        7, 0, {task(10, {{0, 1, 1}}), task(11, {{0, 10, 1}}), task(12, {{0, 11, 1}})}};
    std::vector<std::uint64_t> back;
    p.accept(
        b, [](std::uint64_t id) { return id == 1; }, back);
    EXPECT_TRUE(back.empty());
    std::vector<pending_tasks::failed_task> failed;
    const std::string text = "boom";
    p.finished(1, 0, tide::sched::outcome::threw,
               {reinterpret_cast<const std::byte*>(text.data()), text.size()}, failed);
    ASSERT_EQ(failed.size(), 3u);
    std::set<std::uint64_t> ids;
    for (const auto& f : failed) {
        ids.insert(f.id);
        const auto e = decode_task_error(f.error);
        EXPECT_EQ(e.message(), "boom");
        EXPECT_EQ(e.rank(), 3);
    }
    EXPECT_EQ(ids, (std::set<std::uint64_t>{10, 11, 12}));
    EXPECT_EQ(p.waiting(), 0u);
}

TEST(PendingTasks, AKeptResultIsReadWhereItIsKeptAndMarksTheTaskKeep) {
    kept_results kept(4);
    EXPECT_FALSE(kept.keeps(true, 3));   // below the threshold
    EXPECT_FALSE(kept.keeps(false, 9));  // not the driver's task (lent)
    EXPECT_TRUE(kept.keeps(true, 4));
    pending_tasks p(1, "node", kept);
    kept.put(1, encoded(6));  // task 1 finished here long ago; the ring never saw it
    wire::pending_batch b{7, 1, {task(10, {{0, 1, 1}}), task(11, {{0, 2, 1}})}};
    std::vector<std::uint64_t> back;
    p.accept(
        b, [](std::uint64_t) { return false; }, back);
    EXPECT_EQ(back, std::vector<std::uint64_t>{11});  // 2 is not kept here
    ASSERT_TRUE(p.ready());
    const auto t = p.take_ready();
    EXPECT_TRUE(t.keep);
    EXPECT_EQ(read_value<int>(t.arguments), 6);
    // Fetched by rank 0: gone from here.
    EXPECT_EQ(kept.take(1), std::optional<bytes>(encoded(6)));
    EXPECT_EQ(kept.count(), 0u);
    EXPECT_EQ(kept.bytes_held(), 0u);
    EXPECT_EQ(kept.take(1), std::nullopt);
}

}  // namespace
