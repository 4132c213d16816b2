#include "rank0/bulk_groups.hpp"

#include <algorithm>

#include "tide/error.hpp"

namespace tide::detail {

bulk_ids bulk_groups::open(const task_entry& entry, std::size_t count) {
    if (count >= (std::uint64_t{1} << index_bits))
        throw error("tide: a bulk submission of " + std::to_string(count) +
                    " tasks is larger than the 2^40 it may hold");
    std::size_t slot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else {
        // 2^23 groups at once: far more than a program holds futures of.
        if (slots_.size() >= (std::size_t{1} << (63 - index_bits)))
            throw error("tide: too many bulk submissions are in use at once");
        slot = slots_.size();
        slots_.emplace_back();
    }
    auto& g = slots_[slot].emplace();
    g.entry = &entry;
    g.count = count;
    g.handles = count;
    return {(std::uint64_t{1} << 63) | (static_cast<std::uint64_t>(slot) << index_bits), count};
}

bulk_group* bulk_groups::find(task_id id, std::size_t& index) {
    const auto slot = slot_of(id);
    if (slot >= slots_.size() || !slots_[slot]) return nullptr;
    index = static_cast<std::size_t>(id & ((std::uint64_t{1} << index_bits) - 1));
    return index < slots_[slot]->count ? &*slots_[slot] : nullptr;
}

bulk_group* bulk_groups::group_of(const bulk_ids& ids) {
    const auto slot = slot_of(ids.first);
    return slot < slots_.size() && slots_[slot] ? &*slots_[slot] : nullptr;
}

bulk_ids bulk_groups::ids_of(task_id id, const bulk_group& g) {
    return {id & ~((std::uint64_t{1} << index_bits) - 1), g.count};
}

void bulk_groups::add_range(bulk_group& g, const bulk_ids& ids, sched::task_id id,
                            std::size_t tasks, bool range_record) {
    if (range_record) owners_[id] = {slot_of(ids.first), g.records.size()};
    g.firsts.push_back(g.added);
    g.records.push_back(id);
    g.added += tasks;
}

bulk_place bulk_groups::place(const bulk_group& g, std::size_t index) const {
    // The range holding `index`: the last one starting at or before it.
    const auto it = std::upper_bound(g.firsts.begin(), g.firsts.end(), index);
    const auto range = static_cast<std::size_t>(it - g.firsts.begin()) - 1;
    const auto offset = index - g.firsts[range];
    if (auto s = g.split.find(range); s != g.split.end()) return {s->second[offset], 0};
    return {g.records[range], static_cast<std::uint32_t>(offset)};
}

std::span<const sched::task_id> bulk_groups::records_of(const bulk_group& g, std::size_t range) {
    if (const auto s = g.split.find(range); s != g.split.end()) return s->second;
    return {&g.records[range], 1};
}

std::optional<bulk_groups::range_owner> bulk_groups::owner_of(sched::task_id range_record) {
    const auto it = owners_.find(range_record);
    if (it == owners_.end()) return std::nullopt;
    return range_owner{&*slots_[it->second.slot], it->second.range};
}

void bulk_groups::split(const range_owner& o, sched::task_id range_record,
                        std::vector<sched::task_id> ids) {
    o.group->split[o.range] = std::move(ids);
    owners_.erase(range_record);
}

void bulk_groups::close(const bulk_ids& ids) {
    const auto slot = slot_of(ids.first);
    for (std::size_t r = 0; r < slots_[slot]->records.size(); ++r)
        owners_.erase(slots_[slot]->records[r]);
    slots_[slot].reset();
    free_.push_back(slot);
}

}  // namespace tide::detail
