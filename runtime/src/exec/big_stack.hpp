#pragma once
// Runs a function on a new thread with a stack of a given size and waits for it: the thread
// that runs tasks needs a stack sized for nested waits, which the main thread's (ulimit -s)
// is not.

#include <cstddef>
#include <functional>

namespace tide::detail {

// Returns fn's result; rethrows what fn threw. Runs fn on the calling thread if a thread with
// that stack cannot be created (and says so in the log).
int run_with_stack(std::size_t bytes, const std::function<int()>& fn);

}  // namespace tide::detail
