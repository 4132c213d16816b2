// Reading Slurm's words for satellites: the sbatch options (nodes and time limit, the policy's
// inputs), Slurm's time formats, and sbatch --test-only's answer.

#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <stdexcept>

#include "platform/sbatch_options.hpp"

using namespace tide::detail;

TEST(SbatchOptions, SlurmTimesInEveryForm) {
    EXPECT_EQ(parse_slurm_time("5"), 300);  // minutes
    EXPECT_EQ(parse_slurm_time("5:30"), 330);
    EXPECT_EQ(parse_slurm_time("01:02:03"), 3723);
    EXPECT_EQ(parse_slurm_time("2-0"), 2 * 86400);
    EXPECT_EQ(parse_slurm_time("1-02:03"), 86400 + 2 * 3600 + 3 * 60);
    EXPECT_EQ(parse_slurm_time("1-00:00:09"), 86409);
    EXPECT_TRUE(std::isinf(*parse_slurm_time("UNLIMITED")));
    for (const char* bad : {"", "banana", "1:2:3:4", "-5", "5:", "1-", "1-2:3:4:5", "1.5"})
        EXPECT_FALSE(parse_slurm_time(bad)) << bad;
}

TEST(SbatchOptions, NodesAndTimeInTheirShortLongAndJoinedForms) {
    const auto r = parse_satellite_options("-p debug -N 2 -t 00:10:00 --exclusive");
    EXPECT_EQ(r.options.size(), 7u);
    EXPECT_EQ(r.nodes, 2u);
    EXPECT_EQ(r.time_limit, 600);
    EXPECT_EQ(parse_satellite_options("--nodes=3 --time=1-0").nodes, 3u);
    EXPECT_EQ(parse_satellite_options("--nodes=3 --time=1-0").time_limit, 86400);
    EXPECT_EQ(parse_satellite_options("-N1-4").nodes, 4u);  // a range: the most it may get
    EXPECT_EQ(parse_satellite_options("-t5").time_limit, 300);
    const auto none = parse_satellite_options("");
    EXPECT_TRUE(none.options.empty());
    EXPECT_EQ(none.nodes, 1u);
    EXPECT_TRUE(std::isinf(none.time_limit));
}

TEST(SbatchOptions, UnreadableNodesOrTimeAreRefusedWithTheReason) {
    for (const char* bad : {"-N", "-N zero", "--nodes=0", "-t", "-t banana", "--time=0"}) {
        try {
            parse_satellite_options(bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_FALSE(std::string(e.what()).empty());
        }
    }
    try {
        parse_satellite_options("-t banana");
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("'banana'"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("HH:MM:SS"), std::string::npos);
    }
}

TEST(SbatchOptions, TestOnlyStartInSecondsFromNow) {
    std::tm when{};
    when.tm_year = 2026 - 1900;
    when.tm_mon = 11;
    when.tm_mday = 5;
    when.tm_hour = 15;
    when.tm_min = 50;
    when.tm_isdst = -1;
    const auto at = static_cast<long long>(std::mktime(&when));
    const std::string said =
        "sbatch: Job 1234 to start at 2026-12-05T15:50:00 using 1 processors on nodes vm in "
        "partition debug";
    EXPECT_EQ(parse_test_only_start(said, at - 90), 90);
    EXPECT_EQ(parse_test_only_start(said, at + 10), 0);  // already past: no wait
    EXPECT_FALSE(parse_test_only_start("sbatch: error: invalid partition", at));
    EXPECT_FALSE(parse_test_only_start("Job 1 to start at soon", at));
}
