#include "tide/scheduler/node_slots.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace tide::sched {

std::vector<node_slots> parse_node_list(std::string_view list) {
    std::vector<node_slots> nodes;
    if (list.empty()) throw std::invalid_argument("the node list is empty");
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto end = std::min(list.find(',', start), list.size());
        const std::string_view item = list.substr(start, end - start);
        const auto colon = item.find(':');
        node_slots n;
        n.host = std::string(item.substr(0, colon));
        if (n.host.empty())
            throw std::invalid_argument("a node without a host name in '" + std::string(list) +
                                        "'");
        if (colon != std::string_view::npos) {
            const std::string_view count = item.substr(colon + 1);
            const auto [rest, ec] =
                std::from_chars(count.data(), count.data() + count.size(), n.slots);
            if (ec != std::errc() || rest != count.data() + count.size() || n.slots < 1 ||
                n.slots > 4096)
                throw std::invalid_argument("node '" + n.host + "' has slots '" +
                                            std::string(count) + "', not a number 1..4096");
        }
        for (const auto& other : nodes)
            if (other.host == n.host)
                throw std::invalid_argument("node '" + n.host + "' is listed twice");
        nodes.push_back(std::move(n));
        start = end + 1;
    }
    return nodes;
}

std::optional<node_choice> choose_node(const std::vector<node_slots>& nodes,
                                       const std::vector<int>& in_use,
                                       const std::vector<bool>& lost, int want) {
    std::optional<node_choice> best;
    if (want < 1) return best;
    int most_free = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (lost[i]) continue;
        const int free = nodes[i].slots - in_use[i];
        if (free > most_free) {
            most_free = free;
            best = node_choice{i, std::min(want, free)};
        }
    }
    return best;
}

int free_slots(const std::vector<node_slots>& nodes, const std::vector<int>& in_use,
               const std::vector<bool>& lost) {
    int total = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (!lost[i]) total += std::max(0, nodes[i].slots - in_use[i]);
    return total;
}

}  // namespace tide::sched
