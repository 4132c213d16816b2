#pragma once
// What rank 0 knows of the task batches it sent to one worker. A worker's request for work
// carries how many batches and how many messages it has received from rank 0. MPI delivers one
// sender's messages in order, so a batch sent before the last message the worker has received,
// and not among the batches it counts, will never arrive: its tasks must go elsewhere, or the
// worker would wait for them for ever. (A batch that is merely slow, on a new worker's first
// TCP connection for one, was sent after that message.)

#include <cstdint>
#include <deque>
#include <vector>

namespace tide::sched {

class batch_ledger {
public:
    // Batch `seq` went out as the `message`-th message to the worker.
    void sent(std::uint64_t seq, std::uint64_t message) {
        ++sent_;
        unconfirmed_.push_back({seq, message});
    }
    // The worker has received `batches` batches in all.
    void confirm(std::uint64_t batches) {
        while (confirmed_ < batches && !unconfirmed_.empty()) {
            unconfirmed_.pop_front();
            ++confirmed_;
        }
    }
    // The worker has received `messages` messages from rank 0: the unconfirmed batches sent
    // among them are lost. Returns their numbers; they no longer count as sent.
    std::vector<std::uint64_t> lost_within(std::uint64_t messages) {
        std::vector<std::uint64_t> lost;
        while (!unconfirmed_.empty() && unconfirmed_.front().message <= messages) {
            lost.push_back(unconfirmed_.front().seq);
            unconfirmed_.pop_front();
        }
        sent_ -= lost.size();
        return lost;
    }
    // A worker that has received `batches` has every batch sent to it: its request for work
    // is not stale (one sent before batches on their way to it is).
    bool has_all(std::uint64_t batches) const { return batches >= sent_; }
    // The worker is gone: nothing sent to it is waited for.
    void clear() { unconfirmed_.clear(); }

private:
    struct sent_batch {
        std::uint64_t seq;
        std::uint64_t message;
    };
    std::deque<sent_batch> unconfirmed_;
    std::uint64_t sent_ = 0;
    std::uint64_t confirmed_ = 0;
};

}  // namespace tide::sched
