#pragma once
// Rank 0's record of each bulk submission (driver::map, driver::submit_all) still in use: where
// each of its tasks is. A bulk submission's tasks have ids of their own, (group, index), with the
// top bit set; a group's tasks travel in ranges, one task-table record per range (or one per
// task where ranges are of one task), and a task's result is read from its range's packed
// results. A range lost with its worker comes back as one record per task (split), so that the
// task that killed the worker is found alone, as any task lost with a worker is.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "tide/detail/engine.hpp"
#include "tide/detail/registry.hpp"
#include "tide/scheduler/task_table.hpp"

namespace tide::detail {

struct bulk_group {
    const task_entry* entry = nullptr;
    std::size_t count = 0;  // tasks
    std::size_t added = 0;  // tasks whose range has come
    bool complete = false;  // every range has come
    // Ranges in order: the index of each one's first task, and its record.
    std::vector<std::size_t> firsts;
    std::vector<sched::task_id> records;
    // Ranges lost with a worker, by range index: one record per task since.
    std::unordered_map<std::size_t, std::vector<sched::task_id>> split;
    // Tasks whose future (or map) has not taken or dropped them yet: the group ends at 0.
    std::size_t handles = 0;
};

// Where one task of a bulk submission is: the record holding it, and its index there if that
// is a range (a record of one task otherwise, index 0).
struct bulk_place {
    sched::task_id record = sched::no_task;
    std::uint32_t index = 0;
};

class bulk_groups {
public:
    static bool is_bulk(task_id id) { return (id >> 63) != 0; }

    // A new group of `count` tasks; its ids.
    bulk_ids open(const task_entry& entry, std::size_t count);
    // The group of a bulk id and the task's index in it; nullptr for a group that has ended.
    bulk_group* find(task_id id, std::size_t& index);
    bulk_group* group_of(const bulk_ids& ids);
    // The ids of the group that task `id` belongs to.
    static bulk_ids ids_of(task_id id, const bulk_group& g);
    // A range (record `id`, its first task `first`) joins its group.
    void add_range(bulk_group& g, const bulk_ids& ids, sched::task_id id, std::size_t tasks,
                   bool range_record);
    bulk_place place(const bulk_group& g, std::size_t index) const;
    // The records of range `range`: its own, or one per task once it was split.
    static std::span<const sched::task_id> records_of(const bulk_group& g, std::size_t range);
    // The group and range index of a range record (nullopt once its group has ended).
    struct range_owner {
        bulk_group* group;
        std::size_t range;
    };
    std::optional<range_owner> owner_of(sched::task_id range_record);
    // The range was split into one record per task.
    void split(const range_owner& o, sched::task_id range_record, std::vector<sched::task_id> ids);
    // Forgets a range record's owner (the record is erased or dropped).
    void forget_range(sched::task_id range_record) { owners_.erase(range_record); }
    // Ends the group of `ids`.
    void close(const bulk_ids& ids);

private:
    static constexpr unsigned index_bits = 40;
    static std::size_t slot_of(task_id id) {
        return static_cast<std::size_t>((id & ~(std::uint64_t{1} << 63)) >> index_bits);
    }
    std::vector<std::optional<bulk_group>> slots_;
    std::vector<std::size_t> free_;
    struct owner_key {
        std::size_t slot, range;
    };
    std::unordered_map<sched::task_id, owner_key> owners_;
};

}  // namespace tide::detail
