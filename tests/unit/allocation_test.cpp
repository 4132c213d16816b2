// Reading the Slurm allocation and the job's end on rank 0, from the environment Slurm sets
// (set here by hand) and from squeue (a real one, asked about a job that does not exist).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "platform/allocation.hpp"

using namespace tide::detail;

namespace {

// Sets Slurm's variables for one test and removes them after it.
// Saves and clears them first: the tests may themselves run inside a Slurm job.
class SlurmEnvironment : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* v : variables)
            if (const char* value = std::getenv(v)) saved.emplace_back(v, value);
        for (const char* v : variables) unsetenv(v);
    }
    void TearDown() override {
        for (const char* v : variables) unsetenv(v);
        for (const auto& [name, value] : saved) setenv(name.c_str(), value.c_str(), 1);
    }
    static constexpr const char* variables[] = {"SLURM_JOB_ID", "SLURM_JOB_NODELIST",
                                                "SLURM_NTASKS", "SLURM_CPUS_ON_NODE",
                                                "SLURM_JOB_END_TIME"};
    std::vector<std::pair<std::string, std::string>> saved;
    static double seconds_until(std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(t - std::chrono::steady_clock::now()).count();
    }
};

}  // namespace

TEST(EndEpoch, DigitsOnly) {
    EXPECT_EQ(parse_end_epoch("1795774307\n"), 1795774307LL);
    EXPECT_EQ(parse_end_epoch("  42 "), 42LL);
    EXPECT_EQ(parse_end_epoch("1795774307\n1795774999\n"), 1795774307LL);  // first component
    EXPECT_FALSE(parse_end_epoch("99999999999"));  // past year 2286: not a job's end
    EXPECT_FALSE(parse_end_epoch(""));
    EXPECT_FALSE(parse_end_epoch("Unknown"));  // an unlimited job
    EXPECT_FALSE(parse_end_epoch("N/A"));
    EXPECT_FALSE(parse_end_epoch("2026-11-27T10:10:28"));  // SLURM_TIME_FORMAT not applied
    EXPECT_FALSE(parse_end_epoch("slurm_load_jobs error: Invalid job id specified"));
    EXPECT_FALSE(parse_end_epoch("0"));
}

TEST_F(SlurmEnvironment, OutsideSlurmNoEndUnlessGiven) {
    config cfg;
    auto a = read_allocation(cfg);
    EXPECT_FALSE(a.inside_slurm());
    EXPECT_FALSE(a.ends_at);
    EXPECT_NE(a.describe().find("no time limit known"), std::string::npos) << a.describe();
    cfg.walltime = 90;
    a = read_allocation(cfg);
    ASSERT_TRUE(a.ends_at);
    EXPECT_NEAR(seconds_until(*a.ends_at), 90, 1);
    EXPECT_EQ(a.end_source, "--tide-walltime");
}

TEST_F(SlurmEnvironment, TheAllocationAndItsEndFromTheEnvironment) {
    setenv("SLURM_JOB_ID", "4242", 1);
    setenv("SLURM_JOB_NODELIST", "node[1-2]", 1);
    setenv("SLURM_NTASKS", "16", 1);
    setenv("SLURM_CPUS_ON_NODE", "8", 1);
    setenv("SLURM_JOB_END_TIME", std::to_string(std::time(nullptr) + 600).c_str(), 1);
    const auto a = read_allocation(config{});
    EXPECT_TRUE(a.inside_slurm());
    EXPECT_EQ(a.tasks, 16);
    EXPECT_EQ(a.cpus_on_node, 8);
    ASSERT_TRUE(a.ends_at);
    EXPECT_NEAR(seconds_until(*a.ends_at), 600, 2);
    EXPECT_EQ(a.end_source, "SLURM_JOB_END_TIME");
    EXPECT_NE(a.describe().find("Slurm job 4242: nodes node[1-2], 16 task(s), 8 CPU(s)"),
              std::string::npos)
        << a.describe();
}

TEST_F(SlurmEnvironment, WalltimeFlagWinsAndZeroMeansNone) {
    setenv("SLURM_JOB_ID", "4242", 1);
    setenv("SLURM_JOB_END_TIME", std::to_string(std::time(nullptr) + 600).c_str(), 1);
    config cfg;
    cfg.walltime = 30;
    auto a = read_allocation(cfg);
    ASSERT_TRUE(a.ends_at);
    EXPECT_NEAR(seconds_until(*a.ends_at), 30, 1);
    cfg.walltime = 0;
    a = read_allocation(cfg);
    EXPECT_FALSE(a.ends_at);
    EXPECT_NE(a.end_source.find("ignores"), std::string::npos) << a.end_source;
}

// squeue knows no such job (or there is no cluster to ask): no end, and the log says why.
TEST_F(SlurmEnvironment, NoEndWhenSqueueCannotTell) {
    setenv("SLURM_JOB_ID", "999999999", 1);
    const auto a = read_allocation(config{});
    EXPECT_FALSE(a.ends_at);
    EXPECT_NE(a.end_source.find("squeue"), std::string::npos) << a.end_source;
}

TEST_F(SlurmEnvironment, AJobIdThatIsNotANumberIsNotPassedToAShell) {
    setenv("SLURM_JOB_ID", "1; touch /tmp/tide-pwned", 1);
    const auto a = read_allocation(config{});
    EXPECT_FALSE(a.ends_at);
    EXPECT_NE(a.end_source.find("not a job number"), std::string::npos) << a.end_source;
}
