#include "tide/scheduler/batch_ledger.hpp"

#include <gtest/gtest.h>

using tide::sched::batch_ledger;

TEST(BatchLedger, AConfirmedBatchIsNeverCountedLost) {
    batch_ledger l;
    l.sent(1, 1);  // batch 1 as the first message, batch 2 as the third
    l.sent(2, 3);
    l.confirm(2);
    EXPECT_TRUE(l.lost_within(10).empty());
    EXPECT_TRUE(l.has_all(2));
}

TEST(BatchLedger, ABatchSentBeforeAReceivedMessageAndNotCountedIsLost) {
    batch_ledger l;
    l.sent(7, 2);  // lost on the way
    l.sent(8, 5);  // still travelling
    l.confirm(0);
    // The worker has received four messages, none of them a batch it counts: batch 7 (message
    // 2) will never arrive; batch 8 (message 5) may.
    EXPECT_EQ(l.lost_within(4), (std::vector<std::uint64_t>{7}));
    EXPECT_FALSE(l.has_all(0));  // batch 8 is on its way: a request for work now is stale
    EXPECT_TRUE(l.has_all(1));   // the lost batch no longer counts as sent
    EXPECT_EQ(l.lost_within(5), (std::vector<std::uint64_t>{8}));
    EXPECT_TRUE(l.has_all(0));
}

TEST(BatchLedger, ConfirmationsTakeTheOldestBatchesFirst) {
    batch_ledger l;
    l.sent(1, 1);
    l.sent(2, 2);
    l.sent(3, 3);
    l.confirm(1);  // batch 1 arrived
    l.confirm(1);  // the same count again confirms nothing more
    EXPECT_EQ(l.lost_within(2), (std::vector<std::uint64_t>{2}));
    EXPECT_TRUE(l.lost_within(2).empty());
}

TEST(BatchLedger, AGoneWorkerLosesNothingMore) {
    batch_ledger l;
    l.sent(1, 1);
    l.clear();
    EXPECT_TRUE(l.lost_within(100).empty());
}
