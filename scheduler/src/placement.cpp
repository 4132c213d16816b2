#include "tide/scheduler/placement.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>
#include <tuple>

namespace tide::sched {

namespace {
constexpr int worker_weight = 2;
constexpr int rank0_weight = 1;
}  // namespace

void placement::add_cores(const std::string& host, const std::vector<core_info>& cores) {
    auto& h = hosts_[host];
    for (const auto& c : cores) h.cores[c.index] = c;
}

std::vector<core_info> placement::cores(const std::string& host) const {
    std::vector<core_info> out;
    if (auto it = hosts_.find(host); it != hosts_.end())
        for (const auto& [index, c] : it->second.cores) out.push_back(c);
    return out;
}

std::vector<const core_info*> placement::ordered(const host_state& h,
                                                 const std::vector<int>& allowed) const {
    std::vector<const core_info*> cs;
    for (const auto& [index, c] : h.cores)
        if (allowed.empty() || std::find(allowed.begin(), allowed.end(), index) != allowed.end())
            cs.push_back(&c);
    if (order_ == placement_policy::compact) {
        std::sort(cs.begin(), cs.end(), [](const core_info* a, const core_info* b) {
            return std::tie(a->package, a->numa, a->index) <
                   std::tie(b->package, b->numa, b->index);
        });
        return cs;
    }
    // Scatter: the first core of every NUMA node (alternating packages), then the second, ...
    std::map<int, std::vector<int>> cores_of_numa;  // numa -> its core indices, in order
    std::map<int, std::set<int>> numas_of_package;  // package -> its numa nodes
    for (const auto* c : cs) {
        cores_of_numa[c->numa].push_back(c->index);
        numas_of_package[c->package].insert(c->numa);
    }
    const auto position = [](const auto& seq, int v) {
        return static_cast<int>(std::distance(seq.begin(), std::find(seq.begin(), seq.end(), v)));
    };
    std::vector<int> packages;
    for (const auto& [p, n] : numas_of_package) packages.push_back(p);
    const auto key = [&](const core_info* c) {
        return std::make_tuple(position(cores_of_numa[c->numa], c->index),
                               position(numas_of_package[c->package], c->numa),
                               position(packages, c->package), c->index);
    };
    std::sort(cs.begin(), cs.end(),
              [&](const core_info* a, const core_info* b) { return key(a) < key(b); });
    return cs;
}

std::map<int, int> placement::load_of(const std::string& host) const {
    std::map<int, int> load;
    for (const auto& [who, o] : occupants_)
        if (o.host == host && o.where.core >= 0) load[o.where.core] += o.weight;
    return load;
}

place placement::choose(int who, const std::string& host, const std::vector<int>& allowed,
                        int weight, bool last) {
    release(who);
    if (bind_ == bind_policy::none) return {};
    const auto h = hosts_.find(host);
    if (h == hosts_.end()) return {};
    auto cs = ordered(h->second, allowed);
    if (cs.empty()) return {};
    if (last) std::reverse(cs.begin(), cs.end());
    place p;
    p.bound = true;
    if (bind_ == bind_policy::core) {
        const auto load = load_of(host);
        const auto load_at = [&](int core) {
            const auto it = load.find(core);
            return it == load.end() ? 0 : it->second;
        };
        const core_info* best = cs.front();
        for (const auto* c : cs)
            if (load_at(c->index) < load_at(best->index)) best = c;
        p.core = best->index;
        p.numa = best->numa;
        p.pus = best->pus;
        p.shares_with_worker = load_at(best->index) >= worker_weight;
    } else {
        // NUMA nodes in the policy's order; the least loaded per core wins.
        std::vector<int> numas;
        std::map<int, int> capacity, load;
        for (const auto* c : cs) {
            if (!capacity.count(c->numa)) numas.push_back(c->numa);
            ++capacity[c->numa];
        }
        for (const auto& [w, o] : occupants_)
            if (o.host == host && o.where.numa >= 0 && o.where.core < 0)
                load[o.where.numa] += o.weight;
        int best = numas.front();
        for (int n : numas)
            if (load[n] * capacity[best] < load[best] * capacity[n]) best = n;
        p.numa = best;
        for (const auto* c : cs)
            if (c->numa == best) p.pus.insert(p.pus.end(), c->pus.begin(), c->pus.end());
        std::sort(p.pus.begin(), p.pus.end());
        p.shares_with_worker = load[best] + weight > worker_weight * capacity[best];
    }
    occupants_[who] = {host, p, weight};
    return p;
}

place placement::assign(int who, const std::string& host, const std::vector<int>& allowed) {
    return choose(who, host, allowed, worker_weight, false);
}

place placement::assign_rank0(const std::string& host, const std::vector<int>& allowed) {
    return choose(0, host, allowed, rank0_weight, true);
}

void placement::release(int who) { occupants_.erase(who); }

std::optional<place> placement::place_of(int who) const {
    const auto it = occupants_.find(who);
    if (it == occupants_.end()) return std::nullopt;
    return it->second.where;
}

std::string to_list(const std::vector<int>& ids) {
    std::string out;
    for (std::size_t i = 0; i < ids.size();) {
        std::size_t j = i;
        while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(ids[i]);
        if (j > i) out += '-' + std::to_string(ids[j]);
        i = j + 1;
    }
    return out;
}

std::vector<int> from_list(const std::string& text) {
    std::vector<int> out;
    std::size_t at = 0;
    const auto number = [&] {
        std::size_t used = 0;
        if (at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[at])))
            throw std::invalid_argument("not a list of indices: '" + text + "'");
        const int v = std::stoi(text.substr(at), &used);
        at += used;
        return v;
    };
    while (at < text.size()) {
        const int first = number();
        int last = first;
        if (at < text.size() && text[at] == '-') {
            ++at;
            last = number();
        }
        if (last < first) throw std::invalid_argument("not a list of indices: '" + text + "'");
        for (int v = first; v <= last; ++v) out.push_back(v);
        if (at < text.size()) {
            if (text[at] != ',' || at + 1 == text.size())
                throw std::invalid_argument("not a list of indices: '" + text + "'");
            ++at;
        }
    }
    return out;
}

}  // namespace tide::sched
