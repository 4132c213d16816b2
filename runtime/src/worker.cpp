#include "worker.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <thread>

#include "executor.hpp"
#include "log.hpp"
#include "polling.hpp"
#include "wire.hpp"

namespace tide::detail {

namespace {

using clock = std::chrono::steady_clock;

// Results of long tasks are not held back longer than this waiting for company.
constexpr auto flush_interval = std::chrono::milliseconds(1);
// Tasks run between two looks at the network: several when they are tiny (polling costs more
// than they do), one at a time once they take longer, so a shutdown is seen promptly.
constexpr int tasks_per_poll = 16;
constexpr auto poll_at_least_every = std::chrono::microseconds(100);

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

class worker {
public:
    worker(const config& cfg, transport& net) : cfg_(cfg), net_(net) {}

    int run(const std::string& host) {
        net_.send(0, static_cast<int>(wire::msg::hello),
                  wire::encode(wire::hello{wire::protocol_version,
                                           static_cast<std::uint32_t>(getpid()), host}));
        auto backoff = idle_polling();
        while (!stopping_) {
            bool progressed = net_.progress_sends();
            progressed |= receive();
            if (stopping_) break;
            if (in_hand_ > 0) {
                const auto started = clock::now();
                for (int i = 0; i < tasks_per_poll && in_hand_ > 0; ++i) {
                    run_next();
                    if (clock::now() - started >= poll_at_least_every) break;
                }
                if (should_flush()) flush();
                backoff.reset();
                continue;
            }
            if (pending_ > 0) flush();
            if (progressed) {
                backoff.reset();
                continue;
            }
            idle_pause(backoff);
        }
        return say_goodbye();
    }

private:
    struct batch {
        bytes buffer;  // the received message; the task views point into it
        std::vector<wire::task_view> tasks;
        std::size_t next = 0;
    };

    bool receive() {
        bool any = false;
        message m;
        while (net_.try_receive(m, cfg_.receive_timeout)) {
            any = true;
            switch (static_cast<wire::msg>(m.tag)) {
                case wire::msg::task_batch: accept_batch(m); break;
                case wire::msg::shutdown:
                    stopping_ = true;
                    return true;
                default:
                    ++protocol_errors_;
                    log().warn("unexpected message tag {} from rank {} (dropped)", m.tag,
                               m.source);
                    net_.recycle(std::move(m.body));
            }
        }
        return any;
    }

    void accept_batch(message& m) {
        batch b;
        try {
            wire::decode_task_batch(m.body, b.tasks);
        } catch (const protocol_error& e) {
            ++protocol_errors_;
            log().warn("rejecting a task batch: {}", e.what());
            std::uint64_t seq = 0;
            if (wire::peek_batch_seq(m.body, seq))
                net_.send(0, static_cast<int>(wire::msg::batch_rejected),
                          wire::encode(wire::batch_rejected{seq, e.what()}));
            return;
        }
        in_hand_ += b.tasks.size();
        b.buffer = std::move(m.body);  // moving keeps the data where the views point
        batches_.push_back(std::move(b));
    }

    void run_next() {
        batch& b = batches_.front();
        const auto& t = b.tasks[b.next++];
        if (pending_ == 0) {
            out_ = net_.take_buffer();
            writer_.emplace(out_);
            first_pending_ = clock::now();
        }
        writer_->begin_result(t.id);
        writer_->end_result(execute(t.name_hash, t.signature, t.args, writer_->buffer()));
        ++pending_;
        ++executed_;
        --in_hand_;
        if (b.next == b.tasks.size()) {
            net_.recycle(std::move(b.buffer));
            batches_.pop_front();
        }
    }

    // Send results when the batch is full, when we are about to run dry (rank 0 refills on
    // results), when half of what we held is done, or when the oldest has waited long enough.
    bool should_flush() const {
        return pending_ >= cfg_.batch_max || in_hand_ == 0 || pending_ >= in_hand_ ||
               clock::now() - first_pending_ >= flush_interval;
    }

    void flush() {
        writer_->set_in_hand(static_cast<std::uint32_t>(in_hand_));
        writer_.reset();
        net_.send(0, static_cast<int>(wire::msg::result_batch), std::move(out_));
        pending_ = 0;
    }

    int say_goodbye() {
        wire::goodbye g;
        g.executed = executed_;
        g.dropped = in_hand_;
        g.protocol_errors = protocol_errors_;
        g.cpu_seconds = cpu_seconds();
        net_.send(0, static_cast<int>(wire::msg::goodbye), wire::encode(g));
        if (!net_.drain_sends(clock::now() + cfg_.shutdown_timeout)) {
            log().error("rank 0 did not take this worker's last messages within {} s",
                        cfg_.shutdown_timeout.count() / 1000.0);
            return 1;
        }
        log().debug("worker done: {} tasks run, {} dropped at shutdown", executed_, in_hand_);
        return 0;
    }

    const config& cfg_;
    transport& net_;
    std::deque<batch> batches_;
    std::size_t in_hand_ = 0;
    bytes out_;
    std::optional<wire::result_batch_writer> writer_;
    std::size_t pending_ = 0;
    clock::time_point first_pending_;
    std::uint64_t executed_ = 0;
    std::uint64_t protocol_errors_ = 0;
    bool stopping_ = false;
};

}  // namespace

int run_worker(const config& cfg, transport& net, const std::string& host) {
    return worker(cfg, net).run(host);
}

}  // namespace tide::detail
