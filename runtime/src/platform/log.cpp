#include "platform/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <unistd.h>

#include <cstdio>
#include <memory>

namespace tide::detail {

namespace {
std::string line_pattern = "[%H:%M:%S.%e] [tide] [%^%l%$] %v";
}  // namespace

spdlog::logger& log() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l = std::make_shared<spdlog::logger>(
            "tide", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        l->set_pattern(line_pattern);
        l->set_level(spdlog::level::warn);
        return l;
    }();
    return *logger;
}

void configure_log(const std::string& level, int rank, const std::string& host) {
    auto& l = log();
    l.set_level(spdlog::level::from_str(level));
    line_pattern =
        "[%H:%M:%S.%e] [tide rank " + std::to_string(rank) + "@" + host + "] [%^%l%$] %v";
    l.set_pattern(line_pattern);
    l.flush_on(spdlog::level::warn);
}

void clear_progress_line_in_logs() { log().set_pattern("\r\033[K" + line_pattern); }

void exit_now(int code) {
    log().flush();
    std::fflush(nullptr);
    _exit(code);
}

}  // namespace tide::detail
