#include "log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <memory>

namespace tide::detail {

spdlog::logger& log() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l = std::make_shared<spdlog::logger>(
            "tide", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        l->set_pattern("[%H:%M:%S.%e] [tide] [%^%l%$] %v");
        l->set_level(spdlog::level::warn);
        return l;
    }();
    return *logger;
}

void configure_log(const std::string& level, int rank, const std::string& host) {
    auto& l = log();
    l.set_level(spdlog::level::from_str(level));
    l.set_pattern("[%H:%M:%S.%e] [tide rank " + std::to_string(rank) + "@" + host +
                  "] [%^%l%$] %v");
    l.flush_on(spdlog::level::warn);
}

}  // namespace tide::detail
