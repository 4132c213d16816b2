// Task Bench's patterns (bench/taskbench/patterns.hpp) against cases worked out by hand from
// their published definitions.

#include <gtest/gtest.h>

#include <vector>

#include "../../bench/taskbench/patterns.hpp"

using namespace taskbench;

namespace {

std::vector<long> in(pattern p, long width, long step, long point, long radix = 3) {
    return inputs_of(graph_shape{p, width, 100, radix, 3}, step, point);
}

TEST(TaskBenchPatterns, InputsAsDefined) {
    using v = std::vector<long>;
    EXPECT_EQ(in(pattern::trivial, 4, 5, 2), v{});
    EXPECT_EQ(in(pattern::no_comm, 4, 5, 2), v{2});
    EXPECT_EQ(in(pattern::stencil_1d, 4, 5, 0), (v{0, 1}));
    EXPECT_EQ(in(pattern::stencil_1d, 4, 5, 3), (v{2, 3}));
    EXPECT_EQ(in(pattern::stencil_1d, 1, 5, 0), v{0});
    EXPECT_EQ(in(pattern::nearest, 8, 1, 4, 5), (v{2, 3, 4, 5, 6}));
    EXPECT_EQ(in(pattern::nearest, 8, 1, 4, 4), (v{2, 3, 4, 5}));  // more to the left
    // fft on 8 points: 3 levels, step t uses distance 2^((t + 2) % 3): 1, 2, 4, 1, ...
    EXPECT_EQ(in(pattern::fft, 8, 1, 3), (v{2, 3, 4}));
    EXPECT_EQ(in(pattern::fft, 8, 2, 3), (v{1, 3, 5}));
    EXPECT_EQ(in(pattern::fft, 8, 3, 3), (v{3, 7}));
    // tree: one point, then two, four...; each takes its parent's output.
    EXPECT_EQ(width_at(graph_shape{pattern::tree, 8, 10}, 0), 1);
    EXPECT_EQ(width_at(graph_shape{pattern::tree, 8, 10}, 2), 4);
    EXPECT_EQ(width_at(graph_shape{pattern::tree, 8, 10}, 5), 8);
    EXPECT_EQ(in(pattern::tree, 8, 3, 7), v{3});
    EXPECT_EQ(in(pattern::all_to_all, 3, 1, 1), (v{0, 1, 2}));
    // spread, radix 2 on 8 points: itself and the point half way round, shifted by t % 3.
    EXPECT_EQ(in(pattern::spread, 8, 1, 0, 2), (v{0, 5}));
    EXPECT_EQ(in(pattern::spread, 8, 3, 6, 2), (v{2, 6}));
    for (const auto& [p, name] : pattern_names) EXPECT_EQ(in(p, 4, 0, 1), v{}) << name;
}

TEST(TaskBenchPatterns, ATaskChecksItsInputs) {
    const graph_shape g{pattern::stencil_1d, 4, 10};
    EXPECT_TRUE(inputs_match(g, 3, 1, {{2, 0}, {2, 1}, {2, 2}}));
    EXPECT_FALSE(inputs_match(g, 3, 1, {{2, 0}, {2, 1}}));          // one missing
    EXPECT_FALSE(inputs_match(g, 3, 1, {{2, 0}, {2, 2}, {2, 1}}));  // out of order
    EXPECT_FALSE(inputs_match(g, 3, 1, {{1, 0}, {2, 1}, {2, 2}}));  // of another step
}

}  // namespace
