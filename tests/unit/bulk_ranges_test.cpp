// How many tasks of a bulk submission travel as one range: large for many short tasks (rank 0's
// cost per task goes), never more than half of what a worker holds, small enough that every
// worker the run may have gets its share, and about range_seconds of work once durations are
// known.

#include <gtest/gtest.h>

#include <optional>

#include "tide/scheduler/bulk_ranges.hpp"

using namespace tide::sched;

namespace {
std::size_t size_for(std::size_t tasks, std::size_t workers, std::size_t prefetch,
                     std::optional<double> mean = std::nullopt) {
    range_inputs in;
    in.tasks = tasks;
    in.workers = workers;
    in.prefetch = prefetch;
    in.mean_seconds = mean;
    return range_size(in);
}
}  // namespace

TEST(BulkRanges, ManyShortTasksGoInRangesOfHalfThePrefetchUntilTheirLengthIsKnown) {
    EXPECT_EQ(size_for(10'000'000, 2, 256), 128u);
    EXPECT_EQ(size_for(10'000'000, 2, 4096), 2048u);
    // Known to take 100 ns: 2 ms is 20,000 of them, beyond the largest range.
    EXPECT_EQ(size_for(10'000'000, 2, 256, 100e-9), max_range);
    // A worker then holds two such ranges, whatever the prefetch.
    EXPECT_EQ(hold_for(256, max_range), 2 * max_range);
    EXPECT_EQ(hold_for(256, 1), 256u);
}

TEST(BulkRanges, EveryWorkerTheRunMayHaveGetsItsShare) {
    // 1,000 tasks, 8 workers: 16 ranges each at least, so ranges of 7 (1000 / 128).
    EXPECT_EQ(size_for(1000, 8, 256), 7u);
    // Fewer tasks than shares: one task per record, as with submit.
    EXPECT_EQ(size_for(20, 2, 256), 1u);
    EXPECT_EQ(size_for(0, 0, 256), 1u);
}

TEST(BulkRanges, KnownDurationsBoundARangeInTime) {
    // 1 ms tasks: two to a range (2 ms); 10 ms tasks: one.
    EXPECT_EQ(size_for(1'000'000, 2, 256, 1e-3), 2u);
    EXPECT_EQ(size_for(1'000'000, 2, 256, 10e-3), 1u);
    // A duration of 0 (too short to measure): as large as a range gets.
    EXPECT_EQ(size_for(1'000'000, 2, 256, 0.0), max_range);
}

TEST(BulkRanges, ManyWorkersMakeRangesLongerSoRank0KeepsUp) {
    // 10,000 workers of 1 ms tasks: 2 ms ranges would be 5 million ranges a second for rank 0;
    // 80 ms ones (4 x 2 us per worker) are 125,000.
    EXPECT_EQ(size_for(100'000'000, 10'000, 256, 1e-3), 80u);
    EXPECT_EQ(size_for(100'000'000, 100, 256, 1e-3), 2u);
}

TEST(BulkRanges, APrefetchOfOneStillMovesTasks) { EXPECT_EQ(size_for(1'000'000, 1, 1), 1u); }
