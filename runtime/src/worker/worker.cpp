#include "worker/worker.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "exec/executor.hpp"
#include "exec/run_range.hpp"
#include "exec/task_context.hpp"
#include "platform/binding.hpp"
#include "platform/log.hpp"
#include "platform/polling.hpp"
#include "protocol/messaging.hpp"
#include "protocol/router.hpp"
#include "protocol/wire.hpp"
#include "worker/outbox.hpp"
#include "worker/pending_tasks.hpp"

namespace tide::detail {

namespace {

using clock = std::chrono::steady_clock;

// The task thread looks at the network after this many tiny tasks (a poll costs more than
// they do), or sooner once this much time has passed.
constexpr int tasks_per_poll = 16;
constexpr auto poll_at_least_every = std::chrono::microseconds(100);
// A worker that has run dry polls this often (spinning: tens of microseconds) before it asks
// rank 0 for work.
constexpr int polls_before_asking = 20;
// The keeper thread steps in when the task thread has not polled for a whole period (it is
// inside a long task), and looks once a period; the period is shorter while the deque holds
// tasks that an idle worker may be asking for (so a steal order waits about two periods at
// most while a long task runs).
constexpr auto keeper_period = std::chrono::milliseconds(5);
constexpr auto keeper_period_with_work = std::chrono::microseconds(1000);
constexpr auto keeper_period_parked = std::chrono::milliseconds(100);
// A parked worker looks at the network this often: well under 1% of a core, and a wake is
// seen within this time.
constexpr auto park_poll = std::chrono::milliseconds(10);
// A worker waiting for work asks again this often (rank 0 finds lost batches that way).
constexpr auto ask_again_after = std::chrono::seconds(1);
// Status for the load estimator goes to rank 0 at most this often (sooner when a steal found
// this worker dry and it has work again).
constexpr auto status_period = std::chrono::milliseconds(20);

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// A worker is two threads around one mutex. The task thread runs tasks (without the lock):
// nested tasks from its deque first, then tasks received from rank 0; it does the messaging
// between tasks and while a task waits. The keeper thread does the messaging only while the
// task thread is inside a long task, so finished results go back, steal orders are answered
// and a shutdown is seen without waiting for that task. All MPI calls happen under the mutex;
// the deque is lock-free (the owner pushes and pops, a steal order takes from the other end).
class worker final : public task_context {
public:
    worker(const config& cfg, transport& net, int rank, const std::string& host)
        : task_context(rank, host),
          cfg_(cfg),
          net_(net),
          outbox_(cfg, net),
          kept_(cfg.keep_results),
          pending_(rank, host, kept_) {
        route_messages();
    }

    int run(bool background) {
        context_scope scope(*this);
        std::unique_lock lock(mu_);
        // With a keeper thread this worker sends heartbeats, and rank 0 (same thread level)
        // does too: watch it from the start.
        beating_ = background;
        send_message(
            net_, 0,
            wire::hello{wire::protocol_version, static_cast<std::uint32_t>(getpid()), host()});
        report_topology();
        last_status_ = last_durations_ = clock::now();
        std::thread keeper;
        if (background) keeper = std::thread([this] { keep(); });
        lock.unlock();
        try {
            run_tasks();
        } catch (...) {
            lock.lock();
            stop_keeper(lock, keeper);
            throw;
        }
        lock.lock();
        stop_keeper(lock, keeper);
        const int code = say_goodbye();
        if (without_finalize_) {
            // A worker died: MPI_Finalize (and a spawned worker's disconnect) could wait for
            // it for ever.
            exit_now(code);
        }
        return code;
    }

private:
    struct batch {
        bytes buffer;  // the received message; the task views point into it
        std::vector<wire::task_view> tasks;
        std::size_t next = 0;  // tasks before it have started
        int running = 0;       // started and not finished: the buffer must stay
    };

    // The task thread's loop outside any task.
    void run_tasks() {
        auto backoff = idle_polling();
        int dry_polls = 0;  // polls since the worker last found something to do
        while (!stopping_) {
            if (poll_due() && step({})) backoff.reset();
            collect_ready();
            if (auto t = deque_.pop()) {
                count_task(run_top_level(*t));
                backoff.reset();
                continue;
            }
            // A worker that has just run dry polls a little before asking rank 0 for work:
            // the driver's next task is often a few microseconds away.
            if (step({.run_tasks = true, .may_ask = dry_polls >= polls_before_asking})) {
                backoff.reset();
                dry_polls = 0;
                continue;
            }
            ++dry_polls;
            if (stopping_) break;
            if (parked_) {
                // Parked: one look at the network per park_poll, almost no CPU; a wake or a
                // task batch ends it.
                std::this_thread::sleep_for(park_poll);
                continue;
            }
            idle_pause(backoff);
        }
    }

    // Runs a nested task, marked as running for give_away (a task inside another task's wait
    // is already inside a frame).
    clock::time_point run_top_level(nested_task* t) {
        const bool outer = in_task_.exchange(true);
        const auto end = run_nested(t);
        in_task_ = outer;
        return end;
    }

    bool help(bool may_run_tasks) override {
        return step({.run_tasks = may_run_tasks, .poll_now = true});
    }

    std::optional<sched::expected_result> expected_result_of(const nested_task& t) override {
        std::lock_guard lock(mu_);
        for (const auto& [token, lent] : lent_)  // few: a steal lends at most half a deque
            if (lent.task == &t) return lent.expected;
        return std::nullopt;
    }
    bool ending() const override { return stopping_; }

    void after_task(clock::time_point end) override {
        count_task(end);
        if (poll_due()) help(false);
    }

    void count_task(clock::time_point end) {
        last_task_end_ = end;
        ++since_poll_;
    }

    bool poll_due() const {
        return since_poll_ >= tasks_per_poll || last_task_end_ - last_poll_ >= poll_at_least_every;
    }

    // What one step of work besides the deque may do.
    struct step_mode {
        bool run_tasks = false;  // run tasks received from rank 0
        bool poll_now = false;   // take messages even if no poll is due
        bool may_ask = true;     // with nothing at all to do, ask rank 0 for work
    };

    // One step of work besides the deque: messages when due, then tasks received from rank 0;
    // when there is nothing at all, a steal request. True if anything happened.
    bool step(step_mode mode) {
        std::unique_lock lock(mu_);
        if (keeper_failure_) std::rethrow_exception(keeper_failure_);
        bool progressed = false;
        if (mode.poll_now || in_hand_ == 0 || poll_due()) {
            progressed = pump();
            since_poll_ = 0;
            last_poll_ = last_task_end_;
            if (stopping_) return true;
        }
        if (!unmovable_.empty()) {
            // Taken from the deque for a thief but impossible to encode: they run here, where
            // their parents wait for them, whatever the stack.
            nested_task* t = unmovable_.back();
            unmovable_.pop_back();
            lock.unlock();
            count_task(run_top_level(t));
            return true;
        }
        if (mode.run_tasks && in_hand_ > 0) {
            // Outside any task, received tasks run back to back under this one lock until a
            // poll is due or one of them leaves children on the deque (those come first).
            do {
                run_received_task(lock);
            } while (received_depth_ == 0 && !mode.poll_now && in_hand_ > 0 && !stopping_ &&
                     !poll_due() && deque_.size() == 0 && unmovable_.empty());
            return true;
        }
        // A poll between tasks sends results only by the usual rules (batch full, half done,
        // 1 ms old), not every time: small result batches make small task batches.
        if (outbox_.due(last_task_end_, in_hand_)) outbox_.flush(in_hand_);
        if (status_due(last_task_end_)) send_status(true);
        if (mode.run_tasks && mode.may_ask && !steal_outstanding_ && !parked_ &&
            deque_.size() == 0) {
            // Idle: first say what the last tasks took, so the estimates are current.
            if (executed_ > 0) send_status(true);
            ask_for_work();
            hungry_since_ = last_asked_;
            progressed = true;
        } else if (steal_outstanding_ && !parked_ && mode.may_ask &&
                   clock::now() - last_asked_ > ask_again_after) {
            // Still waiting: ask again, saying how many batches and messages arrived. The
            // request is idempotent at rank 0, and a batch that never arrives shows there (see
            // engine_state::requeue_lost_batches).
            ask_for_work();
        }
        return progressed;
    }

    void ask_for_work() {
        send_message(net_, 0, wire::steal_request{batches_received_, net_.received_from(0)});
        steal_outstanding_ = true;
        last_asked_ = clock::now();
    }

    // Runs the next task received from rank 0 (a graph's task whose inputs came in here
    // first: it continues what just ran); called and returns with the lock held.
    void run_received_task(std::unique_lock<std::mutex>& lock) {
        batch* b = nullptr;
        pending_tasks::ready_task ready{};
        wire::task_view t{};
        if (pending_.ready()) {
            ready = pending_.take_ready();
            t = {ready.id, ready.name_hash, ready.signature, ready.arguments, ready.keep};
        } else {
            for (auto& candidate : batches_)
                if (candidate.next < candidate.tasks.size()) {
                    b = &candidate;
                    break;
                }
            t = b->tasks[b->next++];
            ++b->running;
        }
        --in_hand_;
        running_ids_.push_back(t.id);
        // A task may wait, and run another inside the wait: one result buffer per depth.
        // (A deque keeps the outer buffers where they are when it grows.)
        if (results_by_depth_.size() <= received_depth_) results_by_depth_.emplace_back();
        bytes& out = results_by_depth_[received_depth_++];
        const bool traced = tracing_;  // set by either thread's pump, under the lock
        lock.unlock();
        out.clear();
        sched::outcome status{};
        // The task before ended just now if no poll came in between: its end is this start
        // (one clock read per task, not two). A traced task needs its start in any case.
        auto start = since_poll_ > 0 ? last_task_end_ : clock::time_point{};
        if (traced && start == clock::time_point{}) start = clock::now();
        const auto outer = std::exchange(current_task_, t.id);
        const auto end =
            t.range ? run_range_here(t, out, start)
                    : timed_frame(
                          t.name_hash,
                          [&] { status = execute(t.name_hash, t.signature, t.args, out); }, start);
        current_task_ = outer;
        lock.lock();
        --received_depth_;
        running_ids_.pop_back();
        count_task(end);
        if (traced) outbox_.add_span(t.id, t.name_hash, start, end);
        const bool ok = status == sched::outcome::ok;
        const bool keep = ok && !t.range && kept_.keeps(t.keep, out.size());
        if (keep) {
            outbox_.add_kept(t.id, out.size(), end, in_hand_);
        } else {
            outbox_.add_result(t.id, status, out, end, in_hand_);
            if (ok && !t.range) pending_.remember(t.id, out);
        }
        if (pending_.awaited(t.id)) {
            in_hand_ += pending_.finished(t.id, t.name_hash, status, out, failed_scratch_);
            report_failed_pending(end);
        }
        if (keep) kept_.put(t.id, std::move(out));
        if (b) {
            --b->running;
            release_finished_batches();
        }
        if (outbox_.due(end, in_hand_)) outbox_.flush(in_hand_);
    }

    // Runs the tasks of a range (a piece of a bulk submission) in timed blocks (the durations
    // rank 0 learns are per task), polling between blocks as between any tasks; their results
    // go back packed, as the range's one result. Called without the lock.
    clock::time_point run_range_here(const wire::task_view& t, bytes& out,
                                     clock::time_point start) {
        auto at = start;
        out = run_range(
            t.name_hash, t.signature, t.args, at,
            [&](auto&& body, clock::time_point from, std::uint32_t tasks) {
                return timed_frame(t.name_hash, body, from, tasks);
            },
            [&](clock::time_point end) { after_task(end); });
        return at;
    }

    // Graph tasks waiting here whose input failed: they fail with its error, and are done.
    void report_failed_pending(clock::time_point now) {
        for (const auto& f : failed_scratch_)
            outbox_.add_result(f.id, sched::outcome::child_failed, f.error, now, in_hand_);
        failed_scratch_.clear();
    }

    // Graph tasks sent ahead to wait here for their inputs (see pending_tasks).
    void accept_pending(wire::pending_batch incoming) {
        ++batches_received_;
        std::vector<std::uint64_t> returned;
        in_hand_ += pending_.accept(
            incoming, [this](std::uint64_t id) { return unfinished_here(id); }, returned);
        if (returned.empty()) return;
        // Rank 0 must see the results of their inputs first, or it would send them here again.
        if (outbox_.has_results()) outbox_.flush(in_hand_);
        send_message(net_, 0, wire::pending_bounced{returned});
    }

    void accept_forward(const wire::input_forward& forward) {
        for (const auto& in : forward.inputs) in_hand_ += pending_.forwarded(in, failed_scratch_);
        report_failed_pending(clock::now());
        if (outbox_.due(clock::now(), in_hand_)) outbox_.flush(in_hand_);
    }

    // A task rank 0 sent here that has not finished: not started, running, or a graph's
    // task waiting or ready here.
    bool unfinished_here(std::uint64_t id) const {
        if (pending_.holds(id) || pending_.is_ready(id)) return true;
        if (std::find(running_ids_.begin(), running_ids_.end(), id) != running_ids_.end())
            return true;
        for (const auto& b : batches_)
            for (std::size_t i = b.next; i < b.tasks.size(); ++i)
                if (b.tasks[i].id == id) return true;
        return false;
    }

    // Frees the buffers of leading batches whose tasks have all finished or moved away.
    void release_finished_batches() {
        while (!batches_.empty() && batches_.front().running == 0 &&
               batches_.front().next == batches_.front().tasks.size()) {
            net_.recycle(std::move(batches_.front().buffer));
            batches_.pop_front();
        }
    }

    // What a worker accepts from rank 0.
    void route_messages() {
        router_.on_raw<wire::task_batch_writer>([this](message& m) { accept_batch(m); });
        router_.on<wire::pending_batch>(
            [this](wire::pending_batch b) { accept_pending(std::move(b)); });
        router_.on<wire::input_forward>(
            [this](const wire::input_forward& f) { accept_forward(f); });
        router_.on<wire::steal_order>([this](const wire::steal_order& o) { give_away(o); });
        router_.on<wire::fetch_results>([this](const wire::fetch_results& f) {
            wire::fetched_results answer;
            for (const auto id : f.ids) {
                auto result = kept_.take(id);
                answer.results.push_back(
                    {id, result ? 1u : 0u, result ? std::move(*result) : bytes{}});
            }
            send_message(net_, 0, std::move(answer));
        });
        router_.on<wire::release_results>([this](const wire::release_results& r) {
            for (const auto id : r.ids) kept_.take(id);
        });
        router_.on_raw<wire::child_results_writer>(
            [this](message& m) { accept_child_results(m.body); });
        router_.on<wire::lent_forecast>(
            [this](const wire::lent_forecast& f) { accept_forecast(f); });
        router_.on<wire::shutdown>([this](const wire::shutdown& s) {
            without_finalize_ = s.without_finalize != 0;
            stopping_ = true;
        });
        router_.on<wire::park>([this](const wire::park&) {
            parked_ = true;
            steal_outstanding_ = false;  // rank 0 forgets a parked worker's request
        });
        router_.on<wire::wake>([this](const wire::wake&) { parked_ = false; });
        router_.on<wire::bind>([this](const wire::bind& order) { bind_to(order); });
        router_.on<wire::heartbeat>([](const wire::heartbeat&) {});
        router_.on<wire::tracing>([this](const wire::tracing&) { tracing_ = true; });
    }

    // One round of messaging; needs the lock. True if anything arrived or left.
    bool pump() {
        ++pumps_;
        bool any = net_.progress_sends();
        message m;
        while (net_.try_receive(m)) {
            any = true;
            heard_rank0_ = true;
            try {
                if (!router_.route(m)) {
                    ++protocol_errors_;
                    log().warn("unexpected message tag {} from rank {} (dropped)", m.tag, m.source);
                }
            } catch (const protocol_error& e) {
                ++protocol_errors_;
                log().warn("dropping a message from rank {}: {}", m.source, e.what());
            }
            if (!m.body.empty()) net_.recycle(std::move(m.body));
            if (stopping_) return true;
        }
        keep_in_touch();
        return any;
    }

    // Heartbeats: with a keeper thread, this worker sends one when it has sent nothing for a
    // third of --tide-heartbeat, so rank 0 can tell it is alive; and rank 0 (with the same
    // thread level) sends them too, so a rank 0 silent for a whole period is gone: the worker
    // ends itself rather than outlive the run (nothing could reach it any more, not even a
    // shutdown). Once told to stop, it no longer watches: rank 0 may be finishing. When this
    // process itself was held up for half a period (a stalled machine), rank 0's silence says
    // nothing: the clock starts afresh, as rank 0 does for its workers.
    void keep_in_touch() {
        const auto now = clock::now();
        if (now - last_watch_ > cfg_.heartbeat / 2) watch_restarted_ = now;
        last_watch_ = now;
        // Until rank 0's first message, the first contact may take a while (see rank 0's side).
        const auto allowed =
            heard_rank0_ ? cfg_.heartbeat : std::max(cfg_.heartbeat, cfg_.spawn_timeout);
        const auto silent = now - std::max(net_.last_received(), watch_restarted_);
        if (beating_ && !stopping_ && silent > allowed) {
            log().error(
                "rank 0 has been silent for {:.1f} s (--tide-heartbeat {:.1f} s): it is gone; "
                "this worker exits",
                std::chrono::duration<double>(silent).count(), cfg_.heartbeat.count() / 1000.0);
            exit_now(exit_rank0_lost);
        }
        if (beating_ && now - net_.last_sent() > cfg_.heartbeat / 3)
            send_message(net_, 0, wire::heartbeat{});
    }

    void keep() {
        std::unique_lock lock(mu_);
        while (!keeper_stop_) {
            keeper_wake_.wait_for(lock, parked_             ? keeper_period_parked
                                        : deque_.size() > 0 ? keeper_period_with_work
                                                            : keeper_period);
            // Step in only if nobody pumped for a whole period (the task thread is in a task):
            // a counter, not a clock read on every one of the task thread's polls.
            if (keeper_stop_ || pumps_ != pumps_seen_) {
                pumps_seen_ = pumps_;
                continue;
            }
            try {
                pump();
                pumps_seen_ = pumps_;
                const auto now = clock::now();
                if (outbox_.overdue(now)) outbox_.flush(in_hand_);
                // Durations are the task thread's to report; the deque length is anyone's.
                if (status_owed() || (now - last_status_ >= status_period && deque_.size() > 0))
                    send_status(false);
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
        if (steal_outstanding_)
            hungry_seconds_ += std::chrono::duration<double>(clock::now() - hungry_since_).count();
        steal_outstanding_ = false;  // rank 0 clears its hungry mark whenever it sends work
        parked_ = false;             // and work wakes a parked worker
        ++batches_received_;
        batch b;
        try {
            wire::decode_task_batch(m.body, b.tasks);
        } catch (const protocol_error& e) {
            ++protocol_errors_;
            log().warn("rejecting a task batch: {}", e.what());
            std::uint64_t seq = 0;
            if (wire::peek_batch_seq(m.body, seq))
                send_message(net_, 0, wire::batch_rejected{seq, e.what()});
            return;
        }
        if (b.tasks.empty()) return;
        in_hand_ += b.tasks.size();
        b.buffer = std::move(m.body);  // moving keeps the data where the views point
        batches_.push_back(std::move(b));
    }

    // Answers a steal order with half of what can move: tasks received and not started if
    // there are any (they are rank 0's already: ids suffice), otherwise the oldest nested
    // tasks, which are encoded now and lent until their results come back.
    void give_away(const wire::steal_order& order) {
        wire::stolen_head head;
        head.order = order.order;
        // The last received first: those would run last here. Between tasks this worker is
        // about to start what it holds, so the odd one stays: moving a lone task from a
        // worker that starts it now to one that may be asleep only delays it.
        const bool busy = received_depth_ > 0 || in_task_;
        std::size_t share = busy ? (in_hand_ + 1) / 2 : in_hand_ / 2;
        // A task whose result a graph's task waits for here stays, and so does what is
        // before it.
        for (auto b = batches_.rbegin(); b != batches_.rend() && share > 0; ++b)
            for (; share > 0 && b->tasks.size() > b->next; --share, --in_hand_) {
                if (pending_.awaited(b->tasks.back().id)) {
                    share = 0;
                    break;
                }
                head.returned.push_back(b->tasks.back().id);
                b->tasks.pop_back();
            }
        release_finished_batches();
        // Then graph tasks that are ready here, the newest first, once the results of their
        // inputs are on their way to rank 0 (it needs them to send the tasks elsewhere).
        if (share > 0 && pending_.ready()) {
            if (outbox_.has_results()) outbox_.flush(in_hand_);
            for (; share > 0 && pending_.ready(); --share, --in_hand_)
                head.returned.push_back(pending_.take_newest_ready());
        }
        const std::size_t returned = head.returned.size();
        // Otherwise half the deque, within one message's worth of bytes (at least one task),
        // encoded first (one after another in a scratch buffer): the head names each lent
        // task's parent.
        lending_.clear();
        lend_args_.clear();
        if (returned == 0) {
            const auto half = std::min<std::int64_t>((deque_.size() + 1) / 2, cfg_.batch_max);
            for (std::int64_t i = 0; i < half && (i == 0 || lend_args_.size() < cfg_.batch_bytes);
                 ++i) {
                auto t = deque_.steal();
                if (!t) break;
                const std::size_t from = lend_args_.size();
                if (!encode_for_thief(**t, lend_args_)) continue;
                head.parents.push_back((*t)->parent());
                lending_.push_back({*t, from, lend_args_.size() - from});
            }
        }
        bytes body = net_.take_buffer();
        wire::stolen_writer out(body, std::move(head));
        const auto lent_now = clock::now();
        for (const auto& l : lending_) {
            const auto token = next_token_++;
            out.add(token, l.task->entry().name_hash, l.task->entry().sig->hash,
                    std::span<const std::byte>(lend_args_).subspan(l.at, l.size));
            // Keeps the deque's reference until it is back.
            lent_.emplace(token, lent_task{l.task, lent_now, std::nullopt});
        }
        out.set_queued(static_cast<std::uint32_t>(deque_.size()));
        owe_status_ = returned == 0 && out.lent() == 0;
        send_built<wire::stolen_writer>(net_, 0, std::move(body));
        log().debug("steal order {} for rank {}: gave {} received and {} nested task(s)",
                    order.order, order.thief, returned, out.lent());
    }

    // Appends a nested task's arguments for a thief to `out`. One that cannot be encoded (too
    // large, or its serialization throws) stays here and runs locally: false, `out` as it was.
    bool encode_for_thief(nested_task& t, bytes& out) {
        const std::size_t from = out.size();
        try {
            t.encode_arguments(out);
            if (out.size() - from > max_payload) throw payload_too_large{};
        } catch (const std::exception& e) {
            out.resize(from);
            log().debug("task '{}' cannot move to another worker: {}", t.entry().name, e.what());
            unmovable_.push_back(&t);
            return false;
        }
        return true;
    }

    void accept_forecast(const wire::lent_forecast& forecast) {
        for (const auto& f : forecast.tasks)
            if (auto it = lent_.find(f.token); it != lent_.end())  // else already back
                it->second.expected = sched::expect_task(it->second.at, f.seconds, f.variance);
    }

    void accept_child_results(std::span<const std::byte> body) {
        const auto h = wire::decode_child_results(body, child_scratch_);
        for (const auto& r : child_scratch_) {
            auto it = lent_.find(r.id);
            if (it == lent_.end()) {
                ++protocol_errors_;
                log().warn("a result came back for nested task token {}, which was not lent", r.id);
                continue;
            }
            nested_task* t = it->second.task;
            lent_.erase(it);
            const int ran_on = static_cast<int>(h.rank);
            if (r.status == sched::outcome::ok)
                t->deliver_value(r.payload, ran_on, h.host);
            else
                t->deliver_error(std::make_exception_ptr(
                    error_of(r.status, r.payload, t->entry().name, ran_on, h.host)));
            t->release();
        }
    }

    // A steal found this worker dry and it has work again; either thread may tell.
    bool status_owed() const { return owe_status_ && (deque_.size() > 0 || in_hand_ > 0); }
    // The periodic status with durations; the task thread's to send.
    bool status_due(clock::time_point now) const {
        return status_owed() || (now - last_durations_ >= status_period &&
                                 (executed_ > 0 || deque_.size() > 0 || in_hand_ > 0));
    }

    void send_status(bool with_durations) {
        const auto now = clock::now();
        wire::status s;
        s.queued = static_cast<std::uint32_t>(deque_.size());
        s.unstarted = static_cast<std::uint32_t>(in_hand_);
        if (with_durations) {
            s.executed = executed_;
            s.busy = busy_seconds_;
            s.span = std::chrono::duration<double>(now - last_durations_).count();
            for (const auto& d : durations_)
                s.durations.push_back({d.name, d.count, d.sum, d.sum_of_squares});
            total_executed_ += executed_;
            total_busy_ += busy_seconds_;
            durations_.clear();
            busy_seconds_ = 0;
            executed_ = 0;
            last_durations_ = now;
        }
        last_status_ = now;
        owe_status_ = false;
        send_message(net_, 0, std::move(s));
    }

    // Tells rank 0 the cores this process may use, so that it can be given a place.
    void report_topology() {
        wire::topology t;
        try {
            machine_ = std::make_unique<machine_binding>();
            const auto& view = machine_->view();
            t.summary = view.summary;
            t.given = view.given;
            for (const auto& c : view.cores)
                t.cores.push_back({static_cast<std::uint32_t>(c.index), sched::to_list(c.pus),
                                   static_cast<std::uint32_t>(c.numa),
                                   static_cast<std::uint32_t>(c.package)});
        } catch (const std::exception& e) {
            t.summary = e.what();  // no cores: rank 0 leaves this worker unbound, says why
        }
        send_message(net_, 0, t);
    }

    void bind_to(const wire::bind& order) {
        wire::bound answer;
        std::vector<int> pus;
        try {
            pus = sched::from_list(order.pus);
        } catch (const std::invalid_argument& e) {
            throw protocol_error(std::string("tide: bind order: ") + e.what());
        }
        if (!machine_) {
            answer.error = "hwloc has no topology for this process";
        } else {
            const auto r = machine_->bind(pus);
            answer.ok = r.ok;
            answer.pus = r.bound;
            answer.error = r.error;
        }
        send_message(net_, 0, answer);
    }

    int say_goodbye() {
        wire::goodbye g;
        g.executed = total_executed_ + executed_;
        g.dropped = in_hand_ + pending_.waiting();
        g.protocol_errors = protocol_errors_;
        g.cpu_seconds = cpu_seconds();
        g.busy_seconds = total_busy_ + busy_seconds_;
        send_message(net_, 0, g);
        if (!net_.drain_sends(clock::now() + cfg_.shutdown_timeout)) {
            log().error("rank 0 did not take this worker's last messages within {} s",
                        cfg_.shutdown_timeout.count() / 1000.0);
            return 1;
        }
        log().debug(
            "worker done: {} tasks run, {} dropped at shutdown, {:.3f} s waiting for work, {} "
            "result(s) ({} bytes) still kept for rank 0 at the end",
            g.executed, in_hand_, hungry_seconds_, kept_.count(), kept_.bytes_held());
        for (auto& [token, lent] : lent_) lent.task->release();
        lent_.clear();
        for (auto* t : unmovable_) t->release();
        unmovable_.clear();
        return 0;
    }

    const config& cfg_;
    transport& net_;
    std::unique_ptr<machine_binding> machine_;  // null when hwloc could not load
    std::mutex mu_;  // guards everything below (but the task thread's own counters) and net_
    std::deque<batch> batches_;
    std::vector<std::uint64_t> running_ids_;  // received tasks running, outermost first
    std::size_t in_hand_ = 0;  // received tasks not started (graph tasks ready here included)
    std::deque<bytes> results_by_depth_;
    std::size_t received_depth_ = 0;
    result_outbox outbox_;
    kept_results kept_;      // large results kept here for rank 0 (before pending_, which reads it)
    pending_tasks pending_;  // graph tasks sent ahead, waiting for their inputs here
    std::vector<pending_tasks::failed_task> failed_scratch_;
    message_router<> router_;
    std::uint64_t pumps_ = 0;       // pumps so far, by either thread
    std::uint64_t pumps_seen_ = 0;  // the count at the keeper's last look
    std::uint64_t total_executed_ = 0;
    double total_busy_ = 0;
    std::uint64_t protocol_errors_ = 0;
    bool steal_outstanding_ = false;
    clock::time_point hungry_since_;
    clock::time_point last_asked_;  // the last steal request
    double hungry_seconds_ = 0;
    std::uint64_t batches_received_ = 0;
    bool owe_status_ = false;        // a steal found nothing here: tell rank 0 when there is work
    clock::time_point last_status_;  // the last status, by either thread
    clock::time_point last_durations_;  // the last one with durations (the task thread's)
    // A nested task a thief runs: since when, and when its result should be back (from rank
    // 0's lent_forecast, when it has an estimate).
    struct lent_task {
        nested_task* task;
        clock::time_point at;
        std::optional<sched::expected_result> expected;
    };
    std::unordered_map<std::uint64_t, lent_task> lent_;  // by token
    std::uint64_t next_token_ = 1;
    // Scratch of give_away(): the tasks being lent and their arguments, back to back.
    struct lending {
        nested_task* task;
        std::size_t at, size;
    };
    std::vector<lending> lending_;
    bytes lend_args_;
    std::vector<nested_task*> unmovable_;  // stolen from the deque, could not be encoded
    std::vector<wire::result_view> child_scratch_;
    // --tide-trace on rank 0: when each received task ran, sent ahead of its result.
    bool tracing_ = false;
    bool without_finalize_ = false;  // rank 0 said so at shutdown: a worker died
    // Heartbeats go both ways (this worker has a keeper thread, so rank 0 has background
    // progress): it sends them, and rank 0's silence means rank 0 is gone.
    bool beating_ = false;
    bool heard_rank0_ = false;  // a message from rank 0 has arrived
    // When keep_in_touch last looked, and when it last found this process had been held up.
    clock::time_point last_watch_ = clock::now();
    clock::time_point watch_restarted_{};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> parked_{false};
    std::atomic<bool> in_task_{false};  // the task thread runs a nested task outside any other
    bool keeper_stop_ = false;
    std::exception_ptr keeper_failure_;
    std::condition_variable keeper_wake_;
    // The task thread's own, read without the lock.
    int since_poll_ = tasks_per_poll;
    clock::time_point last_task_end_{}, last_poll_{};
};

}  // namespace

int run_worker(const config& cfg, transport& net, int rank, const std::string& host,
               bool background) {
    return worker(cfg, net, rank, host).run(background);
}

}  // namespace tide::detail
