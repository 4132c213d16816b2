#include "tide/scheduler/task_table.hpp"

#include <stdexcept>

namespace tide::sched {

// Rank 0 holds one record per task in flight; its size is part of the dispatch budget.
static_assert(sizeof(task_record) <= 56, "task_record grew: keep rare fields out of it");

task_id task_table::insert(task_record record) {
    std::uint32_t index;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else {
        if (used_ >= 0xffffffffu) throw std::length_error("tide: task table is full");
        if (used_ == blocks_.size() * block_size)
            blocks_.push_back(std::make_unique<slot[]>(block_size));
        index = static_cast<std::uint32_t>(used_++);
    }
    slot& s = at(index);
    s.record.emplace(std::move(record));
    ++live_;
    return make_id(index, s.generation);
}

task_record* task_table::find(task_id id) {
    const auto index = static_cast<std::size_t>(id & 0xffffffffu);
    const auto generation = static_cast<std::uint32_t>(id >> 32);
    if (index >= used_) return nullptr;
    slot& s = at(index);
    if (s.generation != generation || !s.record) return nullptr;
    return &*s.record;
}

const task_record* task_table::find(task_id id) const {
    return const_cast<task_table*>(this)->find(id);
}

void task_table::erase(task_id id) {
    if (!find(id)) return;
    slot& s = at(id & 0xffffffffu);
    s.record.reset();
    // Generation 0 is never issued, so id 0 (no_task) never matches a slot.
    if (++s.generation == 0) s.generation = 1;
    free_.push_back(static_cast<std::uint32_t>(id & 0xffffffffu));
    --live_;
}

}  // namespace tide::sched
