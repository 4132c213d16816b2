#pragma once
// Rank 0's engine: the central queue, the task table, what every worker holds, and the progress
// loop that moves tasks out and results in. The driver thread drives it from inside submit/wait
// calls; a background thread keeps it moving while the driver computes between calls. One
// mutex serialises both, and with it every MPI call rank 0 makes.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config.hpp"
#include "tide/detail/engine.hpp"
#include "tide/detail/nested.hpp"
#include "tide/load.hpp"
#include "tide/scheduler/dispatch.hpp"
#include "tide/scheduler/load_estimator.hpp"
#include "tide/scheduler/scaling_policy.hpp"
#include "tide/scheduler/task_table.hpp"
#include "timeline.hpp"
#include "transport.hpp"
#include "wire.hpp"

namespace tide::detail {

struct worker_info {
    int rank = -1;
    std::string host = "?";  // known once its hello arrives
    sched::worker_load load;
    bool gone = false;          // said goodbye
    bool hungry = false;        // asked for work; cleared by any task_batch sent to it
    bool dry = false;           // answered a steal with nothing; cleared by news of work
    bool stealing = false;      // a steal order on its behalf is outstanding
    bool being_robbed = false;  // a steal order to it is outstanding
    bool parked = false;        // told to idle at a slow poll; not sent work until woken
    bool rejected = false;      // speaks another protocol version: never used
    std::chrono::steady_clock::time_point last_result;  // when its last results arrived
    std::chrono::steady_clock::time_point idle_since;   // when it last became hungry
    std::chrono::steady_clock::time_point parked_since;
    std::uint64_t batches_sent = 0;  // task batches sent to it, to spot stale steal requests
    wire::goodbye farewell;
};

// A steal order on its way: who asked, who gives, since when.
struct steal_in_flight {
    std::size_t thief;
    std::size_t victim;
    std::chrono::steady_clock::time_point sent;
};

// A nested task that a worker lent to a thief: where its result must go.
struct lent_origin {
    std::size_t worker;
    std::uint64_t token;
};

// Rank 0 runs tasks itself only on a single rank; nested tasks then live on this context.
class rank0_context final : public task_context {
public:
    explicit rank0_context(std::string host) : task_context(0, std::move(host)) {}
    template <class F>
    void run_framed(std::uint64_t name, F&& body) {
        timed_frame(name, std::forward<F>(body));
    }
    // Feeds what ran since the last call into the estimator.
    void report_to(sched::load_estimator& estimator);

private:
    // Every child of a waiting task is on this deque: nothing else to help with.
    bool help(bool) override { return false; }
    void after_task(clock::time_point) override {}
};

struct engine_counters {
    std::uint64_t submitted = 0;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t protocol_errors = 0;
    std::uint64_t batches_sent = 0;
    steal_counters stealing;
    std::uint64_t parks = 0;
    std::uint64_t wakes = 0;
    std::vector<double> steal_round_trips_us;
};

struct engine_state {
    engine_state(const config& cfg, transport& net, std::string host);

    // --- all of these need `mu` held -----------------------------------------------------------
    bool pump();  // one round of progress; true if anything happened
    bool receive_some();
    void handle(message& m);
    bool dispatch();
    // Sends these tasks (records on rank 0) to a worker, in as many batches as they need.
    // `from_queue`: they come from the central queue (the estimator counts them out of it).
    void send_tasks(std::size_t worker, std::span<const sched::task_id> ids,
                    bool from_queue = false);
    // Orders steals for hungry workers from the victims the estimates point at.
    bool broker_steals();
    void accept_stolen(std::size_t victim, std::span<const std::byte> body);
    void accept_status(std::size_t worker, std::span<const std::byte> body);
    void accept_results(std::size_t worker, std::span<const std::byte> body);
    // For a lent nested task: queues its outcome for the worker that lent it and forgets it
    // here (true); false for any other task.
    bool forward_if_lent(sched::task_id id, wire::result_status status,
                         std::span<const std::byte> payload, std::size_t ran_on);
    void send_child_results();
    load_snapshot snapshot();
    // One tick of the elastic policy (at most every scaling_tick): parks idle workers beyond
    // the minimum, wakes parked ones when work comes. True if it changed anything.
    bool scale();
    void run_one_locally();
    sched::task_id enqueue(const task_entry& entry, bytes args);
    // Records a task's end: `why` is failure::none for a result, else the payload is the error.
    void complete(sched::task_id id, sched::task_record& rec, sched::failure why,
                  std::span<const std::byte> payload, int worker);
    // Fails the tasks `worker` holds (those of one batch, or all) with a protocol error.
    void fail_running(int worker, std::optional<std::uint64_t> batch, const std::string& reason);
    void protocol_fault(int source, const std::string& what);
    bool finished(sched::task_id id) const;
    void check_open() const;  // throws once the run has ended
    bool outstanding() const;
    // A worker waits for work through rank 0 (hungry, or a steal order is out): poll promptly.
    bool brokering() const;
    std::size_t running() const;
    bool local_mode() const { return workers.empty(); }
    std::string host_of(int worker) const;

    // --- background progress ------------------------------------------------------------------
    void start_background();
    void stop_background();
    void wake_dozing_background();  // needs `mu`
    void background_loop();

    // Ends every worker; true if all acknowledged before the deadline.
    bool shutdown();

    const config& cfg;
    transport& net;
    std::string host;

    std::mutex mu;
    sched::task_table tasks;
    std::deque<sched::task_id> queue;
    std::vector<worker_info> workers;  // worker i is rank i + 1
    std::vector<sched::worker_load> loads_scratch;
    std::vector<wire::result_view> results_scratch;
    std::vector<sched::task_record*> batch_records;  // scratch of send_tasks()
    std::vector<sched::task_id> batch_ids;           // scratch of dispatch()
    sched::load_estimator estimator;
    std::unordered_map<std::uint64_t, steal_in_flight> steals_in_flight;  // by order number
    std::uint64_t next_order = 1;
    std::unordered_map<sched::task_id, lent_origin> origins;  // lent nested tasks
    // Results of lent tasks on their way back, per origin worker (scratch of accept_results).
    std::vector<bytes> child_results_out;
    std::vector<std::optional<wire::child_results_writer>> child_writers;
    std::unique_ptr<rank0_context> local_tasks;  // single rank only
    sched::scaling_policy policy;
    timeline history;
    std::chrono::steady_clock::time_point started, last_tick;
    std::unordered_map<sched::task_id, std::string> names_of_unknown;  // for error messages
    std::uint64_t next_seq = 1;
    bool shutting_down = false;
    bool closed = false;  // the run is over: futures that outlived it get an error
    engine_counters counters;

    std::chrono::steady_clock::time_point last_pump;
    std::condition_variable wake_background;
    bool background_dozing = false;  // in its long sleep, nothing outstanding
    bool background_busy = false;    // its last pump moved something
    std::chrono::steady_clock::time_point background_pumped_at;  // when it last pumped
    bool stop = false;
    std::thread background;
};

}  // namespace tide::detail
