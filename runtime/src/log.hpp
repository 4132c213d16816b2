#pragma once
// The runtime's logger: its own spdlog logger (the program's default logger is left alone),
// writing to stderr with the rank and host in every line.

#include <spdlog/spdlog.h>

#include <string>

namespace tide::detail {

spdlog::logger& log();
void configure_log(const std::string& level, int rank, const std::string& host);

}  // namespace tide::detail
