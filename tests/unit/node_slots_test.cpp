#include "tide/scheduler/node_slots.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace tide::sched;

namespace {

std::string refusal(std::string_view list) {
    try {
        parse_node_list(list);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST(NodeSlots, ParsesHostsWithAndWithoutSlots) {
    const auto nodes = parse_node_list("node2:4,node3,n-4.cluster:16");
    ASSERT_EQ(nodes.size(), 3u);
    EXPECT_EQ(nodes[0].host, "node2");
    EXPECT_EQ(nodes[0].slots, 4);
    EXPECT_EQ(nodes[1].host, "node3");
    EXPECT_EQ(nodes[1].slots, 1);
    EXPECT_EQ(nodes[2].host, "n-4.cluster");
    EXPECT_EQ(nodes[2].slots, 16);
}

TEST(NodeSlots, RefusesBadListsWithTheReason) {
    EXPECT_EQ(refusal(""), "the node list is empty");
    EXPECT_EQ(refusal("node2,,node3"), "a node without a host name in 'node2,,node3'");
    EXPECT_EQ(refusal(":2"), "a node without a host name in ':2'");
    EXPECT_EQ(refusal("node2:0"), "node 'node2' has slots '0', not a number 1..4096");
    EXPECT_EQ(refusal("node2:two"), "node 'node2' has slots 'two', not a number 1..4096");
    EXPECT_EQ(refusal("node2:2x"), "node 'node2' has slots '2x', not a number 1..4096");
    EXPECT_EQ(refusal("node2:"), "node 'node2' has slots '', not a number 1..4096");
    EXPECT_EQ(refusal("node2:1,node2:3"), "node 'node2' is listed twice");
}

TEST(NodeSlots, ANewGroupGoesWhereMostSlotsAreFreeAndOnlyAsManyAsFit) {
    const auto nodes = parse_node_list("a:2,b:4,c:4");
    const std::vector<int> in_use{0, 1, 3};
    const std::vector<bool> lost(3, false);
    auto c = choose_node(nodes, in_use, lost, 8);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->node, 1u);  // b: 3 free
    EXPECT_EQ(c->count, 3);
    c = choose_node(nodes, in_use, lost, 1);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->node, 1u);
    EXPECT_EQ(c->count, 1);
    // Equal free slots: the first listed.
    c = choose_node(nodes, std::vector<int>{0, 2, 2}, lost, 2);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->node, 0u);
}

TEST(NodeSlots, ALostNodeIsNeverChosenAndFullNodesGiveNothing) {
    const auto nodes = parse_node_list("a:2,b:2");
    EXPECT_FALSE(choose_node(nodes, std::vector<int>{2, 2}, std::vector<bool>{false, false}, 1));
    const auto c = choose_node(nodes, std::vector<int>{0, 2}, std::vector<bool>{true, false}, 1);
    EXPECT_FALSE(c);
    EXPECT_FALSE(choose_node(nodes, std::vector<int>{0, 0}, std::vector<bool>{false, false}, 0));
    EXPECT_EQ(free_slots(nodes, std::vector<int>{0, 1}, std::vector<bool>{true, false}), 1);
    EXPECT_EQ(free_slots(nodes, std::vector<int>{0, 0}, std::vector<bool>{false, false}), 4);
    EXPECT_EQ(free_slots(nodes, std::vector<int>{3, 2}, std::vector<bool>{false, false}), 0);
}
