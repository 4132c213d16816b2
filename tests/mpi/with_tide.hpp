#pragma once
// Runs `body` as the driver of one tide run on all ranks (with extra --tide-* flags if given);
// the run must end with exit code 0. A test binary runs many tide runs with arguments of its
// own, so it cannot be started again as a spawned worker: spawning is off (the workers are the
// ranks mpirun started), unless a test's flags say otherwise. No progress lines or summaries.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <tide/tide.hpp>

template <class F>
void with_tide(F&& body, std::vector<std::string> flags = {}) {
    // Quiet: a summary table after each of the binary's many runs would bury the test output.
    std::vector<std::string> storage{"tide_mpi_tests", "--tide-max-workers=0", "--tide-quiet"};
    for (auto& f : flags) storage.push_back(std::move(f));
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(storage.size());
    EXPECT_EQ(tide::run(argc, argv.data(), std::forward<F>(body)), 0);
}
