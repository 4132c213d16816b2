// Core placement on synthetic topologies: 2 packages x 2 NUMA nodes x 8 cores, hyperthreads,
// a cpuset with holes, and more workers than cores.

#include <gtest/gtest.h>

#include <set>

#include "tide/scheduler/placement.hpp"

using namespace tide::sched;

namespace {

// `packages` x `numa_per_package` x `cores_per_numa` cores, `threads` PUs each. PUs are numbered
// the way Linux numbers hyperthreads: the first thread of every core, then the second.
std::vector<core_info> machine(int packages, int numa_per_package, int cores_per_numa,
                               int threads = 1) {
    std::vector<core_info> cores;
    const int total = packages * numa_per_package * cores_per_numa;
    for (int i = 0; i < total; ++i) {
        core_info c;
        c.index = i;
        c.numa = i / cores_per_numa;
        c.package = c.numa / numa_per_package;
        for (int t = 0; t < threads; ++t) c.pus.push_back(i + t * total);
        cores.push_back(c);
    }
    return cores;
}

}  // namespace

TEST(Placement, CompactFillsCoreAfterCoreAndNeverSharesWhileOneIsFree) {
    placement p(bind_policy::core, placement_policy::compact);
    p.add_cores("n1", machine(2, 2, 8));
    std::set<int> used;
    for (int w = 1; w <= 32; ++w) {
        const auto at = p.assign(w, "n1", {});
        ASSERT_TRUE(at.bound);
        EXPECT_EQ(at.core, w - 1);  // package 0 NUMA 0 first, then NUMA 1, then package 1
        EXPECT_FALSE(at.shares_with_worker);
        EXPECT_TRUE(used.insert(at.core).second);
    }
    const auto extra = p.assign(33, "n1", {});
    EXPECT_TRUE(extra.shares_with_worker);  // 33 workers on 32 cores
}

TEST(Placement, ScatterSpreadsOverPackagesAndNumaNodesFirst) {
    placement p(bind_policy::core, placement_policy::scatter);
    p.add_cores("n1", machine(2, 2, 8));
    const auto first = p.assign(1, "n1", {}), second = p.assign(2, "n1", {}),
               third = p.assign(3, "n1", {}), fourth = p.assign(4, "n1", {});
    EXPECT_EQ(first.numa, 0);
    EXPECT_EQ(second.numa, 2);  // the other package
    EXPECT_EQ(third.numa, 1);
    EXPECT_EQ(fourth.numa, 3);
    EXPECT_EQ(p.assign(5, "n1", {}).core, 1);  // then the second core of NUMA node 0
}

TEST(Placement, AHyperthreadedCoreIsBoundWithAllItsThreads) {
    placement p(bind_policy::core, placement_policy::compact);
    p.add_cores("n1", machine(1, 1, 4, 2));
    const auto at = p.assign(1, "n1", {});
    EXPECT_EQ(at.pus, (std::vector<int>{0, 4}));
    EXPECT_EQ(p.assign(2, "n1", {}).pus, (std::vector<int>{1, 5}));
}

TEST(Placement, OnlyAllowedCoresOfACpusetWithHoles) {
    placement p(bind_policy::core, placement_policy::compact);
    p.add_cores("n1", machine(1, 1, 8));
    const std::vector<int> allowed{1, 4, 6};
    std::set<int> got;
    for (int w = 1; w <= 3; ++w) got.insert(p.assign(w, "n1", allowed).core);
    EXPECT_EQ(got, (std::set<int>{1, 4, 6}));
    const auto fourth = p.assign(4, "n1", allowed);
    EXPECT_TRUE(fourth.shares_with_worker);
    EXPECT_TRUE(fourth.core == 1 || fourth.core == 4 || fourth.core == 6);
}

TEST(Placement, RankZeroTakesTheLastCoreAndWorkersShareWithItBeforeEachOther) {
    placement p(bind_policy::core, placement_policy::compact);
    p.add_cores("n1", machine(1, 1, 2));
    EXPECT_EQ(p.assign_rank0("n1", {}).core, 1);
    const auto a = p.assign(1, "n1", {});
    EXPECT_EQ(a.core, 0);
    const auto b = p.assign(2, "n1", {});
    EXPECT_EQ(b.core, 1);  // with rank 0, which mostly waits
    EXPECT_FALSE(b.shares_with_worker);
    EXPECT_TRUE(p.assign(3, "n1", {}).shares_with_worker);
}

TEST(Placement, ALeavingWorkerFreesItsCoreForTheNext) {
    placement p(bind_policy::core, placement_policy::compact);
    p.add_cores("n1", machine(1, 1, 4));
    for (int w = 1; w <= 4; ++w) p.assign(w, "n1", {});
    p.release(2);
    EXPECT_FALSE(p.place_of(2).has_value());
    const auto next = p.assign(9, "n1", {});
    EXPECT_EQ(next.core, 1);
    EXPECT_FALSE(next.shares_with_worker);
}

TEST(Placement, NumaBindingBalancesWorkersPerNode) {
    placement p(bind_policy::numa, placement_policy::compact);
    p.add_cores("n1", machine(2, 2, 8));
    std::map<int, int> per_node;
    for (int w = 1; w <= 8; ++w) {
        const auto at = p.assign(w, "n1", {});
        EXPECT_EQ(at.core, -1);
        EXPECT_EQ(at.pus.size(), 8u);  // every core of the node
        ++per_node[at.numa];
    }
    for (int n = 0; n < 4; ++n) EXPECT_EQ(per_node[n], 2) << n;
}

TEST(Placement, HostsAreSeparateAndBindingNoneAssignsNothing) {
    placement p(bind_policy::core, placement_policy::compact);
    p.add_cores("a", machine(1, 1, 1));
    p.add_cores("b", machine(1, 1, 1));
    EXPECT_FALSE(p.assign(1, "a", {}).shares_with_worker);
    EXPECT_FALSE(p.assign(2, "b", {}).shares_with_worker);
    EXPECT_FALSE(p.assign(3, "unknown", {}).bound);
    EXPECT_FALSE(p.assign(4, "a", {7}).bound);  // no allowed core: unbound

    placement none(bind_policy::none, placement_policy::compact);
    none.add_cores("a", machine(1, 1, 4));
    EXPECT_FALSE(none.assign(1, "a", {}).bound);
}

TEST(Placement, IndexLists) {
    EXPECT_EQ(to_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
    EXPECT_EQ(to_list({}), "");
    EXPECT_EQ(from_list("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
    EXPECT_EQ(from_list(""), std::vector<int>{});
    for (const char* bad : {"a", "1-", "3-1", "1,,2", "1,", "-1", "1 2"})
        EXPECT_THROW(from_list(bad), std::invalid_argument) << bad;
}
