#include "tide/scheduler/task_graph.hpp"

#include <gtest/gtest.h>

#include <cstdint>
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
    EXPECT_EQ(args, encoded(std::make_tuple(std::string("label"), 42L, 2.5,
                                            std::vector<int>{20, 30})));
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

TEST(TaskGraph, ADroppedTaskIsIgnoredByItsOtherInputs) {
    task_graph g;
    g.hold(1, {}, {{0, 5}, {0, 6}});
    EXPECT_TRUE(g.has_consumers(6));
    g.drop(1);  // input 5 failed
    EXPECT_TRUE(g.empty());
    EXPECT_EQ(g.take_consumers(6), std::vector<task_id>{1});
    EXPECT_FALSE(g.arrived(1, 6, encoded(1)));
    EXPECT_FALSE(g.has_consumers(6));
}

TEST(TaskGraph, BadOffsetsAreRefused) {
    task_graph g;
    EXPECT_THROW(g.hold(1, bytes(4), {{5, 2}}), std::invalid_argument);
    EXPECT_THROW(g.hold(1, bytes(4), {{3, 2}, {1, 3}}), std::invalid_argument);
    EXPECT_THROW(g.arguments(1), std::logic_error);
}

}  // namespace
