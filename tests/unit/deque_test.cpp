// The work-stealing deque: its order on one thread, and under real concurrency every item taken
// exactly once (run by scripts/sanitize thread under ThreadSanitizer as well).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tide/scheduler/ws_deque.hpp"

using tide::sched::ws_deque;

namespace {
std::intptr_t* as_item(std::intptr_t v) { return reinterpret_cast<std::intptr_t*>(v); }
std::intptr_t value_of(std::intptr_t* p) { return reinterpret_cast<std::intptr_t>(p); }
}  // namespace

TEST(Deque, OwnerTakesNewestThievesOldest) {
    ws_deque<std::intptr_t*> d(4);
    for (std::intptr_t i = 1; i <= 5; ++i) d.push(as_item(i));
    EXPECT_EQ(d.size(), 5);
    EXPECT_EQ(value_of(*d.steal()), 1);
    EXPECT_EQ(value_of(*d.pop()), 5);
    EXPECT_EQ(value_of(*d.steal()), 2);
    EXPECT_EQ(value_of(*d.pop()), 4);
    EXPECT_EQ(value_of(*d.pop()), 3);
    EXPECT_FALSE(d.pop());
    EXPECT_FALSE(d.steal());
    EXPECT_EQ(d.size(), 0);
}

TEST(Deque, GrowsPastItsCapacityKeepingOrder) {
    ws_deque<std::intptr_t*> d(2);
    for (std::intptr_t i = 1; i <= 1000; ++i) d.push(as_item(i));
    for (std::intptr_t i = 1; i <= 10; ++i) EXPECT_EQ(value_of(*d.steal()), i);
    for (std::intptr_t i = 1000; i > 10; --i) EXPECT_EQ(value_of(*d.pop()), i);
    EXPECT_FALSE(d.pop());
}

TEST(Deque, PopAboveTakesOnlyWhatCameAfterTheMark) {
    ws_deque<std::intptr_t*> d;
    d.push(as_item(1));
    d.push(as_item(2));
    const auto mark = d.bottom();
    EXPECT_FALSE(d.pop_above(mark));  // older items belong to someone below
    d.push(as_item(3));
    EXPECT_EQ(value_of(*d.pop_above(mark)), 3);
    EXPECT_FALSE(d.pop_above(mark));
    EXPECT_EQ(value_of(*d.pop()), 2);
}

// The owner pushes and pops while thieves steal; every item must come out exactly once.
TEST(Deque, ConcurrentStealsLoseAndDuplicateNothing) {
    constexpr std::intptr_t items = 200000;
    constexpr int thieves = 3;
    ws_deque<std::intptr_t*> d(8);
    std::vector<std::atomic<int>> seen(items + 1);
    std::atomic<bool> done{false};
    std::atomic<long> stolen{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < thieves; ++t)
        threads.emplace_back([&] {
            while (!done.load()) {
                if (auto item = d.steal()) {
                    seen[static_cast<std::size_t>(value_of(*item))].fetch_add(1);
                    stolen.fetch_add(1);
                }
            }
        });
    long popped = 0;
    for (std::intptr_t i = 1; i <= items; ++i) {
        d.push(as_item(i));
        // Pop about one in three, so the deque both grows and runs empty while thieves work.
        if (i % 3 == 0)
            if (auto item = d.pop()) {
                seen[static_cast<std::size_t>(value_of(*item))].fetch_add(1);
                ++popped;
            }
    }
    // On a loaded machine the thieves may not have run yet: give them the chance (the deque
    // still holds about two thirds of the items) before the owner drains it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (stolen.load() == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    while (auto item = d.pop()) {
        seen[static_cast<std::size_t>(value_of(*item))].fetch_add(1);
        ++popped;
    }
    done = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(popped + stolen.load(), items);
    EXPECT_GT(stolen.load(), 0);
    for (std::intptr_t i = 1; i <= items; ++i)
        ASSERT_EQ(seen[static_cast<std::size_t>(i)].load(), 1) << "item " << i;
}
