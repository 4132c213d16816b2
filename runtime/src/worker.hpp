#pragma once

#include <string>

#include "config.hpp"
#include "transport.hpp"

namespace tide::detail {

// The loop every rank other than 0 runs: take task batches, run them, send results back in
// batches, until rank 0 says shutdown. Returns the process's exit code.
int run_worker(const config& cfg, transport& net, const std::string& host);

}  // namespace tide::detail
