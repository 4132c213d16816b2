#pragma once
// The Unbalanced Tree Search trees (Olivier et al., "UTS: An Unbalanced Tree Search
// Benchmark", LCPC 2006). A tree is defined by a splittable random stream: every node carries a
// 20-byte SHA-1 digest; a child's digest is SHA-1(parent digest, child index), and a node's
// number of children is drawn from its own digest. So any traversal order, on any number of
// processes, sees exactly the same tree.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace uts {

enum class tree_type : int { binomial = 0, geometric = 1, hybrid = 2, balanced = 3 };
enum class geo_shape : int { linear = 0, expdec = 1, cyclic = 2, fixed = 3 };

struct params {
    tree_type type = tree_type::geometric;  // -t
    double b0 = 4.0;                        // -b: root branching factor / mean children
    int gen_mx = 6;                         // -d: depth parameter of the geometric shapes
    geo_shape shape = geo_shape::linear;    // -a
    double nonleaf_prob = 15.0 / 64.0;      // -q: binomial, chance that a node has children
    int nonleaf_bf = 4;                     // -m: binomial, children of such a node
    int root_id = 0;                        // -r: seed
    double shift_depth = 0.5;               // -f: hybrid, fraction of gen_mx that is geometric
    int granularity = 1;                    // -g: SHA-1 evaluations per child
    int chunk = 20;                         // -c: nodes a task hands to a child task at once

    template <class A>
    void serialize(A& ar) {
        ar(type, b0, gen_mx, shape, nonleaf_prob, nonleaf_bf, root_id, shift_depth, granularity,
           chunk);
    }
};

// Parses the reference flags (-t -a -d -b -r -q -m -f -g, and -c); throws std::invalid_argument
// with a message naming the flag for anything unknown or malformed.
params parse(const std::vector<std::string>& args, bool& sequential);
std::string describe(const params& p);

struct node {
    std::array<std::uint8_t, 20> state{};
    std::int32_t height = 0;

    template <class A>
    void serialize(A& ar) {
        ar(state, height);
    }
};

struct counts {
    std::uint64_t nodes = 0;
    std::uint64_t leaves = 0;
    std::int32_t depth = 0;  // greatest height seen

    void add(const counts& other);
    template <class A>
    void serialize(A& ar) {
        ar(nodes, leaves, depth);
    }
};

node root(const params& p);
int children_of(const node& n, const params& p);
node child(const node& parent, int index, const params& p);

// The whole tree by plain recursion, no runtime: the reference answer and the baseline.
counts count_sequential(const node& n, const params& p);

}  // namespace uts
