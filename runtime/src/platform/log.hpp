#pragma once
// The runtime's logger: its own spdlog logger (the program's default logger is left alone),
// writing to stderr with the rank and host in every line.

#include <spdlog/spdlog.h>

#include <string>

namespace tide::detail {

spdlog::logger& log();
void configure_log(const std::string& level, int rank, const std::string& host);
// Each log line first clears the terminal's line: a progress line redrawn in place is there.
void clear_progress_line_in_logs();
// Ends the process now, without MPI_Finalize, destructors or atexit handlers (any of them could
// wait for a peer that is gone), after the log and stdio are flushed.
[[noreturn]] void exit_now(int code);

}  // namespace tide::detail
