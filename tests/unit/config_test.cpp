// Flag and environment parsing: --tide-* flags are removed from argv, everything else stays in
// order, and mistakes are config_errors with a message naming the culprit.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "platform/config.hpp"
#include "tide/error.hpp"

namespace {

struct argv_builder {
    explicit argv_builder(std::vector<std::string> a) : storage(std::move(a)) {
        for (auto& s : storage) ptrs.push_back(s.data());
        ptrs.push_back(nullptr);
        argc = static_cast<int>(storage.size());
    }
    std::vector<std::string> rest() const { return {ptrs.begin(), ptrs.begin() + argc}; }
    std::vector<std::string> storage;
    std::vector<char*> ptrs;
    int argc;
};

std::string message_of(std::vector<std::string> args) {
    argv_builder a(std::move(args));
    try {
        tide::detail::parse_config(a.argc, a.ptrs.data());
    } catch (const tide::config_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(Config, DefaultsWithoutFlags) {
    argv_builder a({"prog", "x"});
    const auto c = tide::detail::parse_config(a.argc, a.ptrs.data());
    EXPECT_EQ(c.log_level, "warn");
    EXPECT_EQ(c.prefetch, 256u);
    EXPECT_EQ(c.heartbeat, std::chrono::milliseconds(3000));
    EXPECT_EQ(c.max_retries, 3);
    EXPECT_EQ(c.status_interval, 5.0);
    EXPECT_FALSE(c.quiet);
    EXPECT_TRUE(c.trace_path.empty());
    EXPECT_EQ(a.rest(), (std::vector<std::string>{"prog", "x"}));
}

TEST(Config, FlagsAreStrippedAndOrderKept) {
    argv_builder a({"prog", "in.txt", "--tide-log-level=debug", "-v", "--tide-prefetch", "32",
                    "out", "--", "--tide-not-ours"});
    const auto c = tide::detail::parse_config(a.argc, a.ptrs.data());
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.prefetch, 32u);
    EXPECT_EQ(a.rest(),
              (std::vector<std::string>{"prog", "in.txt", "-v", "out", "--", "--tide-not-ours"}));
    EXPECT_EQ(a.ptrs[static_cast<std::size_t>(a.argc)], nullptr);
}

TEST(Config, AFlagWithoutValueDoesNotTakeTheNextArgument) {
    argv_builder a({"prog", "--tide-quiet", "--tide-prefetch", "512", "--tide-report-bindings",
                    "in.txt", "--tide-trace", "t.json", "--tide-status-interval", "2"});
    const auto c = tide::detail::parse_config(a.argc, a.ptrs.data());
    EXPECT_TRUE(c.quiet);
    EXPECT_TRUE(c.report_bindings);
    EXPECT_EQ(c.prefetch, 512u);
    EXPECT_EQ(c.trace_path, "t.json");
    EXPECT_EQ(c.status_interval, 2.0);
    EXPECT_EQ(a.rest(), (std::vector<std::string>{"prog", "in.txt"}));
}

TEST(Config, EnvironmentIsReadAndFlagWins) {
    setenv("TIDE_PREFETCH", "64", 1);
    argv_builder a({"prog"});
    EXPECT_EQ(tide::detail::parse_config(a.argc, a.ptrs.data()).prefetch, 64u);
    argv_builder b({"prog", "--tide-prefetch=8"});
    EXPECT_EQ(tide::detail::parse_config(b.argc, b.ptrs.data()).prefetch, 8u);
    unsetenv("TIDE_PREFETCH");
}

TEST(Config, MistakesAreClearErrors) {
    EXPECT_NE(message_of({"prog", "--tide-bogus=1"}).find("--tide-bogus"), std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-prefetch=0"}).find("--tide-prefetch"), std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-prefetch=lots"}).find("--tide-prefetch"),
              std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-log-level=loud"}).find("--tide-log-level"),
              std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-bind=socket"}).find("--tide-bind"), std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-placement=spread"}).find("--tide-placement"),
              std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-spawn-info=nokey"}).find("KEY=VALUE"), std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-heartbeat=0"}).find("--tide-heartbeat"),
              std::string::npos);
    EXPECT_NE(message_of({"prog", "--tide-max-retries=-1"}).find("--tide-max-retries"),
              std::string::npos);
    EXPECT_EQ(message_of({"prog"}), "no error");
}

// The environment is shared with everything else a job runs: an unknown TIDE_* variable is
// reported (most likely a typo), not fatal; the scripts' own TIDE_* knobs are not reported.
TEST(Config, UnknownVariablesAreWarnings) {
    setenv("TIDE_PREFECTH", "3", 1);  // a typo of TIDE_PREFETCH
    setenv("TIDE_JOBS", "2", 1);      // read by scripts/setup
    argv_builder a({"prog"});
    const auto c = tide::detail::parse_config(a.argc, a.ptrs.data());
    unsetenv("TIDE_PREFECTH");
    unsetenv("TIDE_JOBS");
    ASSERT_EQ(c.warnings.size(), 1u);
    EXPECT_NE(c.warnings[0].find("TIDE_PREFECTH"), std::string::npos);
    EXPECT_NE(c.warnings[0].find("TIDE_PREFETCH"), std::string::npos);  // the list of known ones
}

TEST(Config, HelpListsEveryOption) {
    argv_builder a({"prog", "--tide-help"});
    const auto c = tide::detail::parse_config(a.argc, a.ptrs.data());
    EXPECT_TRUE(c.help);
    for (const char* flag :
         {"--tide-log-level", "--tide-prefetch", "--tide-batch", "--tide-shutdown-timeout",
          "--tide-receive-timeout", "--tide-max-workers", "--tide-idle-retire",
          "--tide-spawn-timeout", "--tide-bind", "--tide-placement", "--tide-report-bindings",
          "--tide-heartbeat", "--tide-max-retries", "--tide-walltime", "--tide-status-interval",
          "--tide-quiet", "--tide-stats", "--tide-trace"})
        EXPECT_NE(c.help_text.find(flag), std::string::npos) << flag;
}
