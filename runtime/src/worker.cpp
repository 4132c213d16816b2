#include "worker.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "executor.hpp"
#include "log.hpp"
#include "polling.hpp"
#include "wire.hpp"

namespace tide::detail {

namespace {

using clock = std::chrono::steady_clock;

// Results are not held back longer than this waiting for company.
constexpr auto flush_interval = std::chrono::milliseconds(1);
// The task thread looks at the network after this many tiny tasks (a poll costs more than
// they do), or sooner once this much time has passed.
constexpr int tasks_per_poll = 16;
constexpr auto poll_at_least_every = std::chrono::microseconds(100);
// The keeper thread steps in when the task thread has not polled for this long (it is inside
// a long task), and looks that often.
constexpr auto keeper_period = std::chrono::milliseconds(5);

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// A worker is two threads around one mutex. The task thread runs tasks (without the lock) and
// does the messaging between them; the keeper thread does the messaging only while the task
// thread is busy in a long task, so finished results go back and a shutdown is seen without
// waiting for that task. All MPI calls happen under the mutex.
class worker {
public:
    worker(const config& cfg, transport& net) : cfg_(cfg), net_(net) {}

    int run(const std::string& host, bool background) {
        std::unique_lock lock(mu_);
        net_.send(0, static_cast<int>(wire::msg::hello),
                  wire::encode(wire::hello{wire::protocol_version,
                                           static_cast<std::uint32_t>(getpid()), host}));
        std::thread keeper;
        if (background) keeper = std::thread([this] { keep(); });
        try {
            run_tasks(lock);
        } catch (...) {
            if (!lock.owns_lock()) lock.lock();  // thrown while a task ran unlocked
            stop_keeper(lock, keeper);
            throw;
        }
        stop_keeper(lock, keeper);
        return say_goodbye();
    }

private:
    struct batch {
        bytes buffer;  // the received message; the task views point into it
        std::vector<wire::task_view> tasks;
        std::size_t next = 0;
    };

    void run_tasks(std::unique_lock<std::mutex>& lock) {
        auto backoff = idle_polling();
        bytes scratch;
        int since_poll = tasks_per_poll;
        // One clock read per task, after it ran, serves the flush and poll decisions: on some
        // VMs a clock read costs as much as a no-op task.
        clock::time_point task_end{}, last_poll{};
        while (!stopping_) {
            if (keeper_failure_) std::rethrow_exception(keeper_failure_);
            bool progressed = false;
            if (in_hand_ == 0 || since_poll >= tasks_per_poll ||
                task_end - last_poll >= poll_at_least_every) {
                progressed = pump();
                if (stopping_) break;
                since_poll = 0;
                last_poll = task_end;
            }
            if (in_hand_ > 0) {
                // deque::push_back (the keeper's doing) keeps references to elements valid;
                // only this thread pops, after the batch's last task.
                batch& b = batches_.front();
                const wire::task_view& t = b.tasks[b.next++];
                --in_hand_;
                lock.unlock();
                scratch.clear();
                const auto status = execute(t.name_hash, t.signature, t.args, scratch);
                task_end = clock::now();
                lock.lock();
                add_result(t.id, status, scratch, task_end);
                if (b.next == b.tasks.size()) {
                    net_.recycle(std::move(b.buffer));
                    batches_.pop_front();
                }
                ++since_poll;
                if (should_flush(task_end)) flush();
                backoff.reset();
                continue;
            }
            if (pending_ > 0) flush();
            if (progressed) {
                backoff.reset();
                continue;
            }
            lock.unlock();
            idle_pause(backoff);
            lock.lock();
        }
    }

    // One round of messaging; needs the lock. True if anything arrived or left.
    bool pump() {
        ++pumps_;
        bool any = net_.progress_sends();
        message m;
        while (net_.try_receive(m)) {
            any = true;
            switch (static_cast<wire::msg>(m.tag)) {
                case wire::msg::task_batch:
                    accept_batch(m);
                    break;
                case wire::msg::shutdown:
                    stopping_ = true;
                    return true;
                default:
                    ++protocol_errors_;
                    log().warn("unexpected message tag {} from rank {} (dropped)", m.tag, m.source);
                    net_.recycle(std::move(m.body));
            }
        }
        return any;
    }

    void keep() {
        std::unique_lock lock(mu_);
        while (!keeper_stop_) {
            keeper_wake_.wait_for(lock, keeper_period);
            // Step in only if nobody pumped for a whole period (the task thread is in a task):
            // a counter, not a clock read on every one of the task thread's polls.
            if (keeper_stop_ || pumps_ != pumps_seen_) {
                pumps_seen_ = pumps_;
                continue;
            }
            try {
                pump();
                pumps_seen_ = pumps_;
                if (pending_ > 0 && clock::now() - first_pending_ >= flush_interval) flush();
            } catch (const std::exception& e) {
                // Handed to the task thread, which rethrows it between tasks: the job ends.
                log().error("worker messaging failed: {}", e.what());
                keeper_failure_ = std::current_exception();
                return;
            }
        }
    }

    void stop_keeper(std::unique_lock<std::mutex>& lock, std::thread& keeper) {
        keeper_stop_ = true;
        lock.unlock();
        keeper_wake_.notify_all();
        if (keeper.joinable()) keeper.join();
        lock.lock();
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
        if (b.tasks.empty()) return;
        in_hand_ += b.tasks.size();
        b.buffer = std::move(m.body);  // moving keeps the data where the views point
        batches_.push_back(std::move(b));
    }

    void add_result(std::uint64_t id, wire::result_status status, const bytes& payload,
                    clock::time_point now) {
        // A large result travels in a batch of its own rather than push one message past
        // what MPI can carry.
        if (pending_ > 0 &&
            out_.size() + payload.size() + wire::result_entry_framing > cfg_.batch_bytes)
            flush();
        if (pending_ == 0) {
            out_ = net_.take_buffer();
            writer_.emplace(out_);
            first_pending_ = now;
        }
        writer_->begin_result(id);
        writer_->buffer().insert(writer_->buffer().end(), payload.begin(), payload.end());
        writer_->end_result(status);
        ++pending_;
        ++executed_;
    }

    // Send results when the batch is full, when we are about to run dry (rank 0 refills on
    // results), when half of what we held is done, or when the oldest has waited long enough.
    bool should_flush(clock::time_point now) const {
        return pending_ >= cfg_.batch_max || in_hand_ == 0 || pending_ >= in_hand_ ||
               now - first_pending_ >= flush_interval;
    }

    void flush() {
        writer_->set_in_hand(static_cast<std::uint32_t>(in_hand_));
        writer_.reset();
        pending_ = 0;  // before sending: a failed send must not leave a half-reset batch
        net_.send(0, static_cast<int>(wire::msg::result_batch), std::move(out_));
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
    std::mutex mu_;  // guards everything below and every use of net_
    std::deque<batch> batches_;
    std::size_t in_hand_ = 0;
    bytes out_;
    std::optional<wire::result_batch_writer> writer_;
    std::size_t pending_ = 0;
    clock::time_point first_pending_;
    std::uint64_t pumps_ = 0;       // pumps so far, by either thread
    std::uint64_t pumps_seen_ = 0;  // the count at the keeper's last look
    std::uint64_t executed_ = 0;
    std::uint64_t protocol_errors_ = 0;
    bool stopping_ = false;
    bool keeper_stop_ = false;
    std::exception_ptr keeper_failure_;
    std::condition_variable keeper_wake_;
};

}  // namespace

int run_worker(const config& cfg, transport& net, const std::string& host, bool background) {
    return worker(cfg, net).run(host, background);
}

}  // namespace tide::detail
