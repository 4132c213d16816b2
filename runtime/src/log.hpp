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

}  // namespace tide::detail
