#include "tide/scheduler/task_graph.hpp"
#include "tide/scheduler/graph_placement.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tide/detail/serialize.hpp"

using namespace tide::sched;
using tide::detail::append_values;
using tide::detail::bytes;
using tide::detail::read_value;

namespace {

template <class... T>
bytes encoded(const T&... values) {
    bytes out;
    append_values(out, values...);
    return out;
}

using input = task_graph::input;

// The property the graph relies on: a task's arguments, encoded whole, are the literal parts
// with each input's encoded result put in where the argument would be.
TEST(TaskGraph, SplicedArgumentsDecodeAsTheWholeCall) {
    task_graph g;
    // f(std::string, <long from 7>, double, std::vector<int> from [8, 9])
    bytes literal = encoded(std::string("label"));
    const std::size_t at_long = literal.size();
    append_values(literal, 2.5);
    append_values(literal, std::uint64_t{2});  // the vector's length; its elements are inputs
    const std::size_t at_vector = literal.size();
    g.hold(100, literal, {{at_long, 7}, {at_vector, 8}, {at_vector, 9}});
    EXPECT_EQ(g.take_consumers(9), std::vector<task_id>{100});
    EXPECT_FALSE(g.arrived(100, 9, encoded(30)));
    EXPECT_FALSE(g.arrived(100, 7, encoded(42L)));
    EXPECT_EQ(g.missing_inputs(100), std::vector<task_id>{8});
    EXPECT_TRUE(g.arrived(100, 8, encoded(20)));
    const auto args = g.arguments(100);
    EXPECT_FALSE(g.holds(100));
    const auto call = read_value<std::tuple<std::string, long, double, std::vector<int>>>(args);
    EXPECT_EQ(call, std::make_tuple(std::string("label"), 42L, 2.5, std::vector<int>{20, 30}));
    EXPECT_EQ(args,
              encoded(std::make_tuple(std::string("label"), 42L, 2.5, std::vector<int>{20, 30})));
}

TEST(TaskGraph, TheSameInputTwiceAndOrderingEdges) {
    task_graph g;
    g.hold(1, {}, {{0, 5}, {0, 5}, {input::order_only, 6}});
    EXPECT_EQ(g.take_consumers(5), (std::vector<task_id>{1, 1}));
    EXPECT_FALSE(g.arrived(1, 5, encoded(3)));
    EXPECT_FALSE(g.arrived(1, 5, encoded(3)));
    EXPECT_TRUE(g.arrived(1, 6, encoded(999)));  // an ordering edge carries no value
    using pair = std::tuple<int, int>;
    EXPECT_EQ(read_value<pair>(g.arguments(1)), std::make_tuple(3, 3));
}

TEST(TaskGraph, ADroppedTaskLeavesItsInputsConsumerLists) {
    task_graph g;
    g.hold(1, {}, {{0, 5}, {0, 6}, {0, 6}});
    g.hold(2, {}, {{0, 6}});
    EXPECT_EQ(g.take_consumers(5), std::vector<task_id>{1});  // input 5 failed
    // It names the inputs it still missed: one per edge, those already taken included.
    EXPECT_EQ(g.drop(1), (std::vector<task_id>{5, 6, 6}));
    EXPECT_FALSE(g.holds(1));
    EXPECT_EQ(g.consumers_of(6), std::vector<task_id>{2});  // both edges of task 1 are gone
    EXPECT_FALSE(g.arrived(1, 6, encoded(1)));
    // An arrived input is not listed, and the last consumer takes the list with it.
    g.hold(3, {}, {{0, 7}, {0, 8}});
    EXPECT_EQ(g.take_consumers(7), std::vector<task_id>{3});
    EXPECT_FALSE(g.arrived(3, 7, encoded(1)));
    EXPECT_EQ(g.drop(3), std::vector<task_id>{8});
    EXPECT_FALSE(g.has_consumers(8));
    EXPECT_TRUE(g.drop(3).empty());  // not held any more
}

TEST(TaskGraph, BadOffsetsAreRefused) {
    task_graph g;
    EXPECT_THROW(g.hold(1, bytes(4), {{5, 2}}), std::invalid_argument);
    EXPECT_THROW(g.hold(1, bytes(4), {{3, 2}, {1, 3}}), std::invalid_argument);
    EXPECT_THROW(g.arguments(1), std::logic_error);
}

}  // namespace

namespace {

TEST(TaskGraph, PartialArgumentsShiftTheMissingInputs) {
    task_graph g;
    // f(<int from 5>, std::string, <int from 6>)
    bytes literal = encoded(std::string("mid"));
    g.hold(1, literal, {{0, 5}, {literal.size(), 6}, {input::order_only, 7}});
    EXPECT_FALSE(g.arrived(1, 5, encoded(11)));
    const auto [args, missing] = g.partial(1);
    ASSERT_EQ(missing.size(), 2u);
    EXPECT_EQ(missing[0].from, 6u);
    EXPECT_EQ(missing[0].at, args.size());  // after 11 and the string
    EXPECT_EQ(missing[1].at, input::order_only);
    EXPECT_TRUE(g.holds(1));  // still held
    // Completed elsewhere from the partial bytes, the call decodes whole.
    bytes whole = args;
    append_values(whole, 22);
    using call = std::tuple<int, std::string, int>;
    EXPECT_EQ(read_value<call>(whole), std::make_tuple(11, std::string("mid"), 22));
    EXPECT_EQ(g.consumers_of(6), std::vector<task_id>{1});
}

TEST(GraphPlacement, WeighsForwardedInputsAgainstBacklog) {
    const transfer_cost hop{20e-6, 0};
    // Worker 0 makes both inputs but has 10 tasks of 10 us ahead; worker 1 none and is idle.
    std::vector<graph_worker> w{{true, 2, 0, 10}, {true, 0, 0, 0}};
    EXPECT_EQ(choose_graph_worker(w, 2, 10e-6, hop), std::optional<std::size_t>(1));
    // With 1 task ahead, waiting where the inputs are made costs less than two hops.
    w[0].backlog = 1;
    EXPECT_EQ(choose_graph_worker(w, 2, 10e-6, hop), std::optional<std::size_t>(0));
    // Equal costs: the one that makes more of the inputs.
    std::vector<graph_worker> tie{{true, 0, 0, 0}, {true, 1, 0, 1}};
    EXPECT_EQ(choose_graph_worker(tie, 1, 20e-6, hop), std::optional<std::size_t>(1));
    // Nobody usable: the task waits on rank 0.
    std::vector<graph_worker> none{{false, 1, 0, 0}};
    EXPECT_EQ(choose_graph_worker(none, 1, 20e-6, hop), std::nullopt);
}

TEST(GraphPlacement, GoesWhereMostInputBytesAreKept) {
    const transfer_cost cost{20e-6, 1e-9};  // 1 GB/s
    // Worker 0 makes two small inputs, worker 1 holds one of 1 MB: moving the megabyte
    // (1 ms) costs more than two hops.
    std::vector<graph_worker> w{{true, 2, 0, 0}, {true, 1, 1'000'000, 0}};
    EXPECT_EQ(choose_graph_worker(w, 3, 10e-6, cost), std::optional<std::size_t>(1));
    // Unless worker 1 has 200 tasks of 10 us (2 ms) to run first.
    w[1].backlog = 200;
    EXPECT_EQ(choose_graph_worker(w, 3, 10e-6, cost), std::optional<std::size_t>(0));
    // Equal costs: the one that holds more bytes.
    std::vector<graph_worker> tie{{true, 1, 0, 0}, {true, 1, 1, 0}};
    EXPECT_EQ(choose_graph_worker(tie, 2, 10e-6, {20e-6, 0}), std::optional<std::size_t>(1));
}

}  // namespace
