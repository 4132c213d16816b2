#pragma once
// How a task ended: one enum from the worker that ran it, through the wire and rank 0's task
// table, to the tide::task_error a future throws. The values are those on the wire (a worker's
// result_batch carries at most child_failed; protocol and worker_lost are rank 0's verdicts,
// which reach a worker only in child_results), so they never change.

#include <cstdint>

namespace tide::sched {

enum class outcome : std::uint8_t {
    ok = 0,
    threw = 1,          // the task function threw
    unknown_task = 2,   // no function is registered under the name
    bad_arguments = 3,  // arguments do not deserialize into the parameters
    child_failed = 4,   // it let a child's failure through; the payload is that error, encoded
    protocol = 5,       // the message carrying it was rejected
    worker_lost = 6,    // lost with its workers more often than retries allow; payload: history
};

}  // namespace tide::sched
