#pragma once

#include <string>

#include "mpi/transport.hpp"
#include "platform/config.hpp"

namespace tide::detail {

// A worker's exit code when rank 0 fell silent (it died): see --tide-heartbeat.
constexpr int exit_rank0_lost = 5;

// The loop every rank other than 0 runs: take task batches, run them, send results back in
// batches, until rank 0 says shutdown. With `background` (MPI_THREAD_MULTIPLE), a second thread
// keeps messages moving while a long task runs. Returns the process's exit code.
// `rank` is the worker's number at rank 0 (its peer number there), used in logs and errors.
int run_worker(const config& cfg, transport& net, int rank, const std::string& host,
               bool background);

}  // namespace tide::detail
