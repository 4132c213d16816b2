#pragma once
// Runs one task from its wire form: look up the name, check the signature, decode the
// arguments, call the function, encode the result. Shared by workers and by rank 0 when it runs
// tasks itself (single-rank runs), so both behave the same way.

#include <cstdint>
#include <span>

#include "protocol/wire.hpp"
#include "tide/detail/registry.hpp"
#include "tide/detail/serialize.hpp"

namespace tide::detail {

// Appends the result, or on failure the error text, to `out` (for child_failed, the child's
// task_error encoded).
sched::outcome execute(std::uint64_t name_hash, std::uint64_t signature,
                       std::span<const std::byte> args, bytes& out);
// The same with the task already looked up (nullptr: no task has that name), as for every task
// of a range.
sched::outcome execute(const task_entry* entry, std::uint64_t signature,
                       std::span<const std::byte> args, bytes& out);

// A task_error that a task let through (a child's failure) travels whole, so the driver learns
// which task failed first, on which rank, and why.
void encode_task_error(const task_error& e, bytes& out);
// Throws protocol_error for a payload that is not an encoded task_error.
task_error decode_task_error(std::span<const std::byte> payload);

// What a failed task passes to the tasks that take its result (a graph's dependents): its
// task_error encoded, as a child's failure travels (child_failed). One that is already a
// passed-on error goes on unchanged, naming the task that failed first.
bytes error_for_dependents(sched::outcome status, std::span<const std::byte> payload,
                           const std::string& task_name, int rank, const std::string& host);

// The task_error for a failed result: decoded for child_failed, else built from the text.
task_error error_of(sched::outcome status, std::span<const std::byte> payload,
                    const std::string& task_name, int rank, const std::string& host);

}  // namespace tide::detail
