#pragma once
// What a worker sends back for the tasks it received: their results, in batches, and with
// --tide-trace the spans of those tasks ahead of them. A batch goes when it is full, when the
// worker is about to run dry (rank 0 refills on results), when half of what the worker held is
// done, or when its oldest result has waited flush_interval. Guarded by the worker's mutex.

#include <chrono>
#include <cstdint>
#include <optional>

#include "mpi/transport.hpp"
#include "platform/config.hpp"
#include "protocol/messaging.hpp"
#include "protocol/wire.hpp"

namespace tide::detail {

class result_outbox {
public:
    using clock = std::chrono::steady_clock;
    // Results are not held back longer than this waiting for company.
    static constexpr auto flush_interval = std::chrono::milliseconds(1);

    result_outbox(const config& cfg, transport& net) : cfg_(cfg), net_(net) {}

    // `in_hand`: the worker's unstarted tasks, told to rank 0 if a batch must go first.
    void add_result(std::uint64_t id, sched::outcome status, const bytes& payload,
                    clock::time_point now, std::size_t in_hand) {
        make_room(payload.size(), now, in_hand);
        writer_->begin_result(id);
        writer_->buffer().insert(writer_->buffer().end(), payload.begin(), payload.end());
        writer_->end_result(status);
        ++pending_;
    }
    // A successful result of `size` bytes that this worker keeps (kept_results): rank 0
    // learns only that it is done, and where.
    void add_kept(std::uint64_t id, std::uint64_t size, clock::time_point now,
                  std::size_t in_hand) {
        make_room(sizeof size, now, in_hand);
        writer_->add_kept(id, size);
        ++pending_;
    }

    // When each received task ran, with its id and name, for the trace on rank 0.
    void add_span(std::uint64_t id, std::uint64_t name, clock::time_point start,
                  clock::time_point end) {
        if (!spans_writer_) {
            spans_out_ = net_.take_buffer();
            spans_writer_.emplace(spans_out_);
        }
        spans_writer_->add({id, name, seconds_on_clock(start),
                            std::chrono::duration<double>(end - start).count()});
    }

    // Whether results wait that should go now, for a worker holding `in_hand` unstarted tasks.
    bool due(clock::time_point now, std::size_t in_hand) const {
        return pending_ > 0 && (pending_ >= cfg_.batch_max || in_hand == 0 || pending_ >= in_hand ||
                                now - first_pending_ >= flush_interval);
    }
    bool has_results() const { return pending_ > 0; }
    // The oldest result has waited long enough (what the keeper thread looks at).
    bool overdue(clock::time_point now) const {
        return pending_ > 0 && now - first_pending_ >= flush_interval;
    }

    // Sends the spans, then the results, telling rank 0 the worker holds `in_hand` tasks.
    void flush(std::size_t in_hand) {
        if (spans_writer_) send_spans();
        writer_->set_in_hand(static_cast<std::uint32_t>(in_hand));
        writer_.reset();
        pending_ = 0;  // before sending: a failed send must not leave a half-reset batch
        send_built<wire::result_batch_writer>(net_, 0, std::move(out_));
    }

private:
    // Starts a batch if none is open; a large result travels in a batch of its own rather
    // than push one message past what MPI can carry.
    void make_room(std::size_t payload, clock::time_point now, std::size_t in_hand) {
        if (pending_ > 0 && out_.size() + payload + wire::result_entry_framing > cfg_.batch_bytes)
            flush(in_hand);
        if (pending_ == 0) {
            out_ = net_.take_buffer();
            writer_.emplace(out_);
            first_pending_ = now;
        }
    }

    // A time on this process's steady clock, in seconds (spans carry these; rank 0 maps them).
    static double seconds_on_clock(clock::time_point t) {
        return std::chrono::duration<double>(t.time_since_epoch()).count();
    }

    void send_spans() {
        spans_writer_->set_sent_at(seconds_on_clock(clock::now()));
        spans_writer_.reset();
        send_built<wire::spans_writer>(net_, 0, std::move(spans_out_));
    }

    const config& cfg_;
    transport& net_;
    bytes out_;
    std::optional<wire::result_batch_writer> writer_;
    std::size_t pending_ = 0;
    clock::time_point first_pending_;
    bytes spans_out_;
    std::optional<wire::spans_writer> spans_writer_;
};

}  // namespace tide::detail
