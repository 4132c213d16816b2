#pragma once
// The nodes rank 0 may start groups of workers on (--tide-nodes), and which one a new group
// goes to. Each group is its own launcher job on one node, so that a node's death costs only
// the workers on it; the choice spreads groups over the nodes with the most free slots, and
// never picks a node that was lost.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::sched {

struct node_slots {
    std::string host;
    int slots = 1;  // workers it may run at once
};

// Parses "HOST[:SLOTS],HOST[:SLOTS],..." (SLOTS defaults to 1). Throws std::invalid_argument
// with the reason for an empty list, an empty host, a host given twice, or a bad slot count.
std::vector<node_slots> parse_node_list(std::string_view list);

// Where a new group of up to `want` workers goes, given each node's workers in use and
// whether it was lost: the node with the most free slots (the first listed among equals), and
// as many workers as fit there. Nothing when no node has a free slot.
struct node_choice {
    std::size_t node = 0;
    int count = 0;
};
std::optional<node_choice> choose_node(const std::vector<node_slots>& nodes,
                                       const std::vector<int>& in_use,
                                       const std::vector<bool>& lost, int want);

// The slots not in use on the nodes not lost.
int free_slots(const std::vector<node_slots>& nodes, const std::vector<int>& in_use,
               const std::vector<bool>& lost);

}  // namespace tide::sched
