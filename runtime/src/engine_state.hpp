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
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config.hpp"
#include "tide/detail/engine.hpp"
#include "tide/scheduler/dispatch.hpp"
#include "tide/scheduler/task_table.hpp"
#include "transport.hpp"
#include "wire.hpp"

namespace tide::detail {

struct worker_info {
    int rank = -1;
    std::string host = "?";  // known once its hello arrives
    sched::worker_load load;
    bool gone = false;                   // said goodbye
    std::uint32_t reported_in_hand = 0;  // as the worker last said (input of load estimates)
    wire::goodbye farewell;
};

struct engine_counters {
    std::uint64_t submitted = 0;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t protocol_errors = 0;
    std::uint64_t batches_sent = 0;
};

struct engine_state {
    engine_state(const config& cfg, transport& net, std::string host);

    // --- all of these need `mu` held -----------------------------------------------------------
    bool pump();  // one round of progress; true if anything happened
    bool receive_some();
    void handle(message& m);
    bool dispatch();
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
    std::vector<sched::task_id> batch_ids;                             // scratch of dispatch()
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
