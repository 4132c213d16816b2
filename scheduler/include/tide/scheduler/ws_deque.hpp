#pragma once
// A work-stealing deque (Chase and Lev, SPAA 2005; memory orders after Lê et al., PPoPP 2013,
// with sequentially consistent operations in place of the fences, which ThreadSanitizer does
// not model). One owner thread pushes and pops at the bottom (newest first: depth-first, cache
// warm); any other thread steals from the top (oldest first: in a recursive computation the
// oldest tasks sit nearest the root and carry the most work). Push and pop are a few plain
// loads and stores; only the race for the last element, and steals, use a compare-and-swap.
//
// pop_above(mark) lets a waiting task take only what was pushed at or above the bottom index it
// saw when it started. That is exact because task frames nest: every frame started above a
// waiting one has finished, and popped what it pushed, before the waiting one looks again.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

namespace tide::sched {

template <class T>
class ws_deque {
    static_assert(std::is_trivially_copyable_v<T> && std::atomic<T>::is_always_lock_free,
                  "ws_deque holds small trivially copyable items, such as pointers");

public:
    explicit ws_deque(std::int64_t capacity = 256) {
        std::int64_t c = 1;
        while (c < capacity) c *= 2;
        rings_.push_back(std::make_unique<ring>(c));
        ring_.store(rings_.back().get());
    }
    ws_deque(const ws_deque&) = delete;
    ws_deque& operator=(const ws_deque&) = delete;

    // --- owner thread only --------------------------------------------------------------------
    void push(T item) {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        const std::int64_t t = top_.load(std::memory_order_acquire);
        ring* r = ring_.load(std::memory_order_relaxed);
        if (b - t >= r->capacity) r = grow(r, t, b);
        r->put(b, item);
        bottom_.store(b + 1, std::memory_order_seq_cst);
    }

    // The newest item, if any.
    std::optional<T> pop() {
        // Seen empty by the owner, it is empty (only the owner adds): skip the fenced store,
        // which the worker would otherwise pay before every task it receives.
        if (bottom_.load(std::memory_order_relaxed) <= top_.load(std::memory_order_acquire))
            return std::nullopt;
        const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
        ring* r = ring_.load(std::memory_order_relaxed);
        bottom_.store(b, std::memory_order_seq_cst);
        std::int64_t t = top_.load(std::memory_order_seq_cst);
        if (t > b) {  // empty
            bottom_.store(b + 1, std::memory_order_relaxed);
            return std::nullopt;
        }
        T item = r->get(b);
        if (t == b) {  // the last item: a thief may be taking it too; the CAS decides
            const bool won = top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                                          std::memory_order_relaxed);
            bottom_.store(b + 1, std::memory_order_relaxed);
            if (!won) return std::nullopt;
        }
        return item;
    }

    // The newest item, only if it was pushed at index `mark` or later.
    std::optional<T> pop_above(std::int64_t mark) {
        if (bottom_.load(std::memory_order_relaxed) - 1 < mark) return std::nullopt;
        return pop();
    }

    // The index the next push will take.
    std::int64_t bottom() const { return bottom_.load(std::memory_order_relaxed); }

    // --- any thread -----------------------------------------------------------------------------
    // The oldest item; nullopt only when the deque is empty (a lost race is retried).
    std::optional<T> steal() {
        for (;;) {
            std::int64_t t = top_.load(std::memory_order_seq_cst);
            const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
            if (t >= b) return std::nullopt;
            ring* r = ring_.load(std::memory_order_acquire);
            T item = r->get(t);
            if (top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                             std::memory_order_relaxed))
                return item;
        }
    }

    // Items present at some recent moment (exact when no thread is changing the deque).
    std::int64_t size() const {
        const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
        const std::int64_t t = top_.load(std::memory_order_seq_cst);
        return b > t ? b - t : 0;
    }

private:
    struct ring {
        explicit ring(std::int64_t c)
            : capacity(c), mask(c - 1), slots(std::make_unique<std::atomic<T>[]>(c)) {}
        T get(std::int64_t i) const { return slots[i & mask].load(std::memory_order_relaxed); }
        void put(std::int64_t i, T v) { slots[i & mask].store(v, std::memory_order_relaxed); }
        std::int64_t capacity;
        std::int64_t mask;
        std::unique_ptr<std::atomic<T>[]> slots;
    };

    ring* grow(ring* old, std::int64_t t, std::int64_t b) {
        rings_.push_back(std::make_unique<ring>(old->capacity * 2));
        ring* bigger = rings_.back().get();
        for (std::int64_t i = t; i < b; ++i) bigger->put(i, old->get(i));
        ring_.store(bigger, std::memory_order_release);
        return bigger;
    }

    std::atomic<std::int64_t> top_{0};
    std::atomic<std::int64_t> bottom_{0};
    std::atomic<ring*> ring_{nullptr};
    // Every ring ever used, freed only with the deque: a thief may still be reading a smaller
    // ring after the owner grew it. (Growth doubles, so the old rings add up to less than the
    // current one.)
    std::vector<std::unique_ptr<ring>> rings_;
};

}  // namespace tide::sched
