#include "tide/scheduler/task_graph.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace tide::sched {

void task_graph::hold(task_id task, std::vector<std::byte> literal, std::vector<input> inputs) {
    std::size_t last = 0;
    for (const auto& i : inputs) {
        if (i.at == input::order_only) continue;
        if (i.at > literal.size() || i.at < last)
            throw std::invalid_argument(
                "tide: inputs' offsets must increase and lie within the arguments");
        last = i.at;
    }
    for (const auto& i : inputs) consumers_[i.from].push_back(task);
    waiting w;
    w.literal = std::move(literal);
    w.results.resize(inputs.size());
    w.in.assign(inputs.size(), false);
    w.missing = inputs.size();
    w.inputs = std::move(inputs);
    waiting_.emplace(task, std::move(w));
}

std::vector<task_id> task_graph::take_consumers(task_id producer) {
    const auto it = consumers_.find(producer);
    if (it == consumers_.end()) return {};
    auto out = std::move(it->second);
    consumers_.erase(it);
    return out;
}

bool task_graph::arrived(task_id task, task_id producer, std::span<const std::byte> result) {
    const auto it = waiting_.find(task);
    if (it == waiting_.end()) return false;
    waiting& w = it->second;
    for (std::size_t k = 0; k < w.inputs.size(); ++k) {
        if (w.in[k] || w.inputs[k].from != producer) continue;
        w.in[k] = true;
        if (w.inputs[k].at != input::order_only) w.results[k].assign(result.begin(), result.end());
        --w.missing;
        break;
    }
    return w.missing == 0;
}

std::vector<std::byte> task_graph::arguments(task_id task) {
    const auto it = waiting_.find(task);
    if (it == waiting_.end() || it->second.missing != 0)
        throw std::logic_error("tide: arguments of a task whose inputs have not all arrived");
    auto args = partial(task).first;
    waiting_.erase(it);
    return args;
}

const std::vector<task_id>& task_graph::consumers_of(task_id producer) const {
    static const std::vector<task_id> none;
    const auto it = consumers_.find(producer);
    return it == consumers_.end() ? none : it->second;
}

std::pair<std::vector<std::byte>, std::vector<task_graph::input>> task_graph::partial(
    task_id task) const {
    const auto it = waiting_.find(task);
    if (it == waiting_.end()) throw std::logic_error("tide: partial() of a task not held");
    const waiting& w = it->second;
    std::vector<std::byte> out;
    std::vector<input> missing;
    std::size_t copied = 0;  // of the literal
    for (std::size_t k = 0; k < w.inputs.size(); ++k) {
        const auto at = w.inputs[k].at;
        if (at == input::order_only) {
            if (!w.in[k]) missing.push_back(w.inputs[k]);
            continue;
        }
        out.insert(out.end(), w.literal.begin() + static_cast<std::ptrdiff_t>(copied),
                   w.literal.begin() + static_cast<std::ptrdiff_t>(at));
        copied = at;
        if (w.in[k]) {
            out.insert(out.end(), w.results[k].begin(), w.results[k].end());
        } else {
            missing.push_back({out.size(), w.inputs[k].from});
        }
    }
    out.insert(out.end(), w.literal.begin() + static_cast<std::ptrdiff_t>(copied), w.literal.end());
    return {std::move(out), std::move(missing)};
}

std::vector<task_id> task_graph::drop(task_id task) {
    std::vector<task_id> missed;
    const auto it = waiting_.find(task);
    if (it == waiting_.end()) return missed;
    const waiting& w = it->second;
    for (std::size_t k = 0; k < w.inputs.size(); ++k) {
        if (w.in[k]) continue;
        const task_id from = w.inputs[k].from;
        missed.push_back(from);
        // One edge: a task that takes the same input twice is listed twice.
        const auto c = consumers_.find(from);
        if (c == consumers_.end()) continue;  // taken by take_consumers already
        auto& list = c->second;
        if (const auto at = std::find(list.begin(), list.end(), task); at != list.end())
            list.erase(at);
        if (list.empty()) consumers_.erase(c);
    }
    waiting_.erase(it);
    return missed;
}

std::vector<task_id> task_graph::missing_inputs(task_id task) const {
    std::vector<task_id> out;
    if (const auto it = waiting_.find(task); it != waiting_.end())
        for (std::size_t k = 0; k < it->second.inputs.size(); ++k)
            if (!it->second.in[k]) out.push_back(it->second.inputs[k].from);
    return out;
}

}  // namespace tide::sched
