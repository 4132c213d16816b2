#pragma once
// Rank 0's table of every task it knows about: a slot map, so that lookups by id are an index
// plus a generation check, freed slots are reused, and a stale id (a future that outlived its
// task) can never alias a newer task. Slots live in fixed-size blocks: the table grows a block at
// a time and never moves a record, so submitting ten million tasks never stops rank 0 for the
// seconds that reallocating (and copying) one huge array would take.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "tide/scheduler/outcome.hpp"

namespace tide::sched {

using task_id = std::uint64_t;
inline constexpr task_id no_task = 0;

enum class task_state : std::uint8_t {
    held,     // waiting for its inputs (task_graph); `payload` is empty
    queued,   // in rank 0's central queue
    running,  // sent to a worker (owner), result not yet back
    done,     // result bytes are in `payload` (unless kept on a worker)
    failed,   // error text is in `error`
};

// Kept small (56 bytes): rank 0 holds one per task submitted and not yet collected.
struct task_record {
    std::uint64_t name_hash = 0;
    std::uint64_t signature = 0;
    // One buffer through the task's life: its encoded arguments while queued or running (kept
    // so the task can be re-sent), then its encoded result, or the error text if it failed.
    std::vector<std::byte> payload;
    std::uint64_t batch = 0;  // sequence number of the batch message that carried it
    // The worker index holding it while running; once finished, the worker that ran it (-1:
    // rank 0 itself).
    int owner = -1;
    task_state state = task_state::queued;
    outcome why = outcome::ok;
    // One byte for both (the record must stay within 56 bytes: see task_table.cpp).
    bool abandoned : 1 = false;  // its future is gone: drop the record when the task finishes
    bool lent : 1 = false;       // a worker's nested task moved by a steal, not the driver's
    bool join : 1 = false;       // runs nothing: tide::when_all's gathering of its inputs
    bool ahead : 1 = false;      // sent ahead to the worker where its inputs are made
    bool kept : 1 = false;       // done, its result kept on a worker (engine_state::kept)
    bool range : 1 = false;      // a range of a bulk submission: many tasks in one record
    // Times it was on a worker that died. A task lost before runs alone on a worker (no other
    // task in hand there), so that a second loss can be blamed on it.
    std::uint8_t losses = 0;
};

// The tasks a record stands for: 1, or a range's count. A range's payload, its packed arguments
// while queued or running and its packed results once done, begins with the count as a u32
// (tide/detail/packed_range.hpp).
inline std::size_t tasks_in(const task_record& rec) {
    if (!rec.range || rec.payload.size() < sizeof(std::uint32_t)) return 1;
    std::uint32_t count;
    std::memcpy(&count, rec.payload.data(), sizeof count);
    return count;
}

class task_table {
public:
    task_id insert(task_record record);
    // nullptr for an id that was never issued or whose record was erased.
    task_record* find(task_id id);
    const task_record* find(task_id id) const;
    void erase(task_id id);
    std::size_t size() const { return live_; }

    template <class F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < used_; ++i) {
            slot& s = at(i);
            if (s.record) f(make_id(i, s.generation), *s.record);
        }
    }

private:
    struct slot {
        std::uint32_t generation = 1;
        std::optional<task_record> record;
    };
    // 65,536 slots (about 4.5 MiB) a block.
    static constexpr unsigned block_bits = 16;
    static constexpr std::size_t block_size = std::size_t{1} << block_bits;
    static task_id make_id(std::size_t index, std::uint32_t generation) {
        return (static_cast<task_id>(generation) << 32) | static_cast<task_id>(index);
    }
    slot& at(std::size_t index) { return blocks_[index >> block_bits][index & (block_size - 1)]; }
    std::vector<std::unique_ptr<slot[]>> blocks_;
    std::size_t used_ = 0;  // slots ever handed out: 0 .. used_-1
    std::vector<std::uint32_t> free_;
    std::size_t live_ = 0;
};

}  // namespace tide::sched
