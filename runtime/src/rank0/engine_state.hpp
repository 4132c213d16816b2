#pragma once
// Rank 0's engine: the central queue, the task table, what every worker holds, and the progress
// loop that moves tasks out and results in. The driver thread drives it from inside submit/wait
// calls; a background thread keeps it moving while the driver computes between calls. One
// mutex serialises both, and with it every MPI call rank 0 makes.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "exec/task_context.hpp"
#include "journal/journal.hpp"
#include "mpi/spawner.hpp"
#include "mpi/transport.hpp"
#include "platform/allocation.hpp"
#include "platform/config.hpp"
#include "protocol/router.hpp"
#include "protocol/wire.hpp"
#include "rank0/bulk_groups.hpp"
#include "rank0/lent_tasks.hpp"
#include "rank0/node_groups.hpp"
#include "rank0/observe/observer.hpp"
#include "rank0/places.hpp"
#include "rank0/satellite_jobs.hpp"
#include "rank0/steal_broker.hpp"
#include "rank0/worker_pool.hpp"
#include "tide/detail/engine.hpp"
#include "tide/load.hpp"
#include "tide/scheduler/backoff.hpp"
#include "tide/scheduler/central_queue.hpp"
#include "tide/scheduler/dispatch.hpp"
#include "tide/scheduler/graph_placement.hpp"
#include "tide/scheduler/load_estimator.hpp"
#include "tide/scheduler/placement.hpp"
#include "tide/scheduler/satellite_policy.hpp"
#include "tide/scheduler/scaling_policy.hpp"
#include "tide/scheduler/task_table.hpp"
#include "tide/stats.hpp"

namespace tide::detail {

// How this run was started, as rank 0 finds out at start-up.
struct launch_facts {
    int world_size = 1;  // ranks the launcher started (rank 0 included)
    int slots = 1;       // processes the launcher allows (MPI_UNIVERSE_SIZE), or the cores
    // What spawned workers run; an empty command when spawning is impossible (MPI without
    // MPI_THREAD_MULTIPLE).
    std::string spawn_command;
    std::vector<std::string> spawn_args;
    // A spawned worker stuck in MPI_Init ends itself (the launcher survives that); otherwise
    // only the job's end ends it (plain mpirun: rank 0's exit aborts the job).
    bool spawned_end_themselves = false;
    allocation job;  // the Slurm allocation and the job's end, if known
    // Started by mpirun: it gives every rank a pseudo-terminal for stdout whatever its own
    // output is, so a terminal seen there says nothing about where the output goes.
    bool by_mpirun = false;
    // --tide-nodes: where and how to start groups of workers as jobs of their own.
    std::optional<node_launch_settings> node_launch;
    // --tide-satellites: how to submit Slurm jobs of workers that join the run.
    std::optional<satellite_launch_settings> satellite_launch;
};

// The elastic policy's settings from the flags: at least the workers the launcher started are
// allowed (they are parked, never killed), by default as many as the slots leave beside rank
// 0; at least those started are kept active unless --tide-min-workers says fewer.
sched::policy_settings policy_from(const config& cfg, const launch_facts& launch);
inline double seconds_of(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}
// The median of the samples (the upper one of an even count), 0 for none.
double median(std::vector<double> samples);
// Spawns that never return before rank 0 stops trying: each one leaves a thread inside MPI,
// and a spawn after a hung one may well hang behind it.
constexpr int max_hung_spawns = 3;
// What forwarding an input to a task sent ahead costs, worker to rank 0 to worker: about a
// round trip on one host (7 us measured on the development machine, tide-bench latency; more
// when rank 0 shares a core).
constexpr double forward_hop_seconds = 20e-6;
// What each byte of a kept input is taken to cost to move to another worker (fetched to rank
// 0, then forwarded): 1 GB/s for the two copies, an assumption (not measured) that makes a
// megabyte weigh as much as 50 hops.
constexpr double forward_byte_seconds = 1e-9;
// How often the elastic policy looks: a parked worker is woken within a tick of work arriving.
constexpr auto scaling_tick = std::chrono::milliseconds(20);
// The longest rank 0 goes without a pump while the driver thread works under its mutex.
constexpr auto responsive_within = std::chrono::milliseconds(1);

// Workers started by one MPI_Comm_spawn: they share an intercommunicator, which is
// disconnected once all of them have said goodbye (disconnecting is collective over the group).
struct spawn_group {
    int first = 0;  // peer number (rank) of its first worker
    int count = 0;
    intercomm comm;  // set once linked; disconnected when the group is released
    std::chrono::steady_clock::time_point requested;
    bool linked = false;              // the spawn completed and its peers are on the transport
    bool abandoned = false;           // given up on: kept in case the spawn returns after all
    bool broken = false;              // a member died: never disconnected (that would wait for it)
    bool retiring = false;            // told to finish for good (its workers then count as retired)
    std::optional<std::size_t> node;  // started on this node of --tide-nodes, as its own job
    std::optional<std::uint64_t> satellite;  // the workers of this satellite (a Slurm job)
};

// A satellite as rank 0 follows it, from its submission until its Slurm job has ended.
struct satellite_record {
    sched::satellite_state state = sched::satellite_state::queued;
    std::string job;  // Slurm's job id, once sbatch answered
    std::chrono::steady_clock::time_point submitted, started;
    std::optional<std::uint64_t> group;  // its workers, once its job started
    bool cancelled = false;              // taken out of the queue by rank 0
    bool ran = false;                    // its workers joined
    bool failed = false;                 // its workers did not join (counted then)
};

// Rank 0 runs tasks itself only on a single rank; nested tasks then live on this context.
class rank0_context final : public task_context {
public:
    explicit rank0_context(std::string host) : task_context(0, std::move(host)) {}
    template <class F>
    clock::time_point run_framed(std::uint64_t name, F&& body, clock::time_point start = {},
                                 std::uint64_t tasks = 1) {
        return timed_frame(name, std::forward<F>(body), start, tasks);
    }
    // Feeds what ran since the last call into the estimator, and adds it to the run's counts.
    void report_to(sched::load_estimator& estimator, std::uint64_t& executed, double& busy);

private:
    // Every child of a waiting task is on this deque: nothing else to help with.
    bool help(bool) override { return false; }
    void after_task(clock::time_point) override {}
};

struct engine_counters {
    std::uint64_t submitted = 0;
    std::uint64_t resumed = 0;  // of those, answered from the journal
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t protocol_errors = 0;
    std::uint64_t batches_sent = 0;
    std::uint64_t batches_lost = 0;  // sent, never received: their tasks were queued again
    steal_counters stealing;
    std::uint64_t parks = 0;
    std::uint64_t wakes = 0;
    std::uint64_t spawned = 0;         // workers started by rank 0
    std::uint64_t spawn_failures = 0;  // spawns that failed or were given up on
    std::uint64_t spawns_hung = 0;     // of those, spawns that never returned in time
    std::uint64_t retired = 0;
    std::uint64_t workers_lost = 0;
    std::uint64_t sent_ahead = 0;        // graph tasks sent to wait where their inputs are made
    std::uint64_t ahead_returned = 0;    // of those, bounced back (an input had finished there)
    std::uint64_t inputs_forwarded = 0;  // to them, from other workers
    // Results kept on the workers that made them (--tide-keep-results), and their bytes; of
    // those, fetched to rank 0, released there, and made again (their worker was lost).
    std::uint64_t results_kept = 0, kept_bytes = 0;
    std::uint64_t results_fetched = 0, fetched_bytes = 0;
    std::uint64_t results_released = 0, results_remade = 0;
    std::uint64_t tasks_rerun = 0;         // queued again after their worker was lost
    std::uint64_t driver_tasks_rerun = 0;  // of those, the driver's (not lent nested tasks)
    std::vector<double> spawn_seconds;
    // Satellites: submitted (sbatch answered), joined, failed; their waits in the queue and
    // their joins (from their job's start).
    std::uint64_t satellites_submitted = 0, satellites_joined = 0, satellites_failed = 0;
    std::vector<double> satellite_waits, satellite_joins;
    std::vector<double> steal_round_trips_us;
    // Rank 0 running tasks itself.
    std::uint64_t local_tasks = 0, local_executed = 0;
    double local_busy_seconds = 0;
    // Bursts (work arriving while nothing was outstanding) and, for those that brought a worker
    // in, the time from their first submission to the first task sent to it.
    std::uint64_t bursts = 0;
    std::vector<double> burst_to_new_worker;
};

struct engine_state {
    engine_state(const config& cfg, transport& net, std::string host, launch_facts launch);

    // --- all of these need `mu` held -----------------------------------------------------------
    bool pump();  // one round of progress; true if anything happened
    // Pumps if the last pump is responsive_within old. A long operation under `mu` (a
    // submission of millions of tasks) calls it as it goes: the background thread cannot pump
    // meanwhile, and workers would take a silent rank 0 for a dead one.
    void stay_responsive();
    bool receive_some(int budget);
    void handle(message& m);
    void route_messages();  // fills `router`, at start-up
    void accept_steal_request(std::size_t worker, const wire::steal_request& r);
    void accept_hello(std::size_t worker, const wire::hello& h);
    void accept_goodbye(std::size_t worker, const wire::goodbye& g);
    bool dispatch();
    // Sends these tasks (records on rank 0) to a worker, in as many batches as they need.
    // `from_queue`: they come from the central queue (the estimator counts them out of it).
    void send_tasks(std::size_t worker, std::span<const sched::task_id> ids,
                    bool from_queue = false);
    // Orders steals for hungry workers (steal_broker), the estimator made current first.
    bool broker_steals();
    // A worker asking for work has received `messages_received` messages from rank 0: the
    // batches still unconfirmed among them were lost, and their tasks are queued again (they
    // never started there; a worker waiting asks again every second).
    void requeue_lost_batches(std::size_t worker, std::uint64_t messages_received);
    // Puts tasks (running somewhere, in submission order, let go of by their worker) back at
    // the head of the queue; a graph's task that misses inputs is held again instead.
    void requeue(std::span<const sched::task_id> ids);
    // `worker` no longer holds the task (it finished, moved, or came back): one task fewer in
    // hand there, or sent ahead there.
    void let_go(sched::task_record& rec, std::size_t worker);
    // --- worker loss (rank0/loss.cpp) ---------------------------------------------------
    // Sends rank 0's heartbeats and declares workers silent past --tide-heartbeat lost.
    void watch_heartbeats();
    // The worker is dead: its tasks run again elsewhere, or fail after too many losses.
    void lose_worker(std::size_t worker, const std::string& why);
    // What a lost worker held (sent, stolen by it, lent to it), `at` seconds into the run: the
    // tasks to run again; those lost too often fail (counted in `failed`).
    std::vector<sched::task_id> retry_held_by(std::size_t worker, double at, std::size_t& failed);
    // Fails a task lost with workers (tide::worker_lost), its history in the message; `worker`
    // held it (its in-hand count drops), or -1.
    void fail_lost(sched::task_id id, sched::task_record& rec, int worker, const std::string& why);
    void accept_stolen(std::size_t victim, std::span<const std::byte> body);
    // The tasks a victim gave: those it was sent and gives back, and nested tasks it lends
    // (recorded here, their origin kept for the result).
    void record_stolen(std::size_t victim, const wire::stolen_view& answer,
                       std::vector<sched::task_id>& moving);
    void accept_status(std::size_t worker, std::span<const std::byte> body);
    void accept_results(std::size_t worker, std::span<const std::byte> body);
    // For a lent nested task: queues its outcome for the worker that lent it and forgets it
    // here (true); false for any other task.
    bool forward_if_lent(sched::task_id id, sched::outcome status,
                         std::span<const std::byte> payload, std::size_t ran_on);
    load_snapshot snapshot();
    // --- what the run did, shown as it goes and at the end (rank0/observe/observe.cpp) ---------
    run_stats stats();
    // The workers the launcher started join the pool (told to trace if the run is traced).
    void start_observing();
    // A worker joins the pool for the first time (start, spawn: it is told to trace if the
    // run is traced) or leaves it for good (goodbye, loss).
    void enter_pool(std::size_t worker, std::chrono::steady_clock::time_point now);
    void left_pool(std::size_t worker, std::chrono::steady_clock::time_point now);
    // Tasks are about to be sent to `worker`: the first one for a worker that joined during a
    // burst ends that burst's wait.
    void note_sent(worker_info& w);
    void accept_spans(std::size_t worker, std::span<const std::byte> body);
    // The live progress line or status line, when due; the summary, stats file and trace at
    // the end.
    void report_progress();
    void report_end();
    // One tick of the elastic policy (at most every scaling_tick): spawns or wakes workers
    // when work comes, parks idle ones beyond the minimum, retires spawned ones parked long.
    // True if it changed anything.
    bool scale();
    // The scaling policy's view of the pool now; `index` maps its workers to the pool's.
    sched::scaling_input scaling_view(std::chrono::steady_clock::time_point now,
                                      std::vector<std::size_t>& index);
    // The pool's row for the timeline and the trace, with the policy's decision.
    void record_pool(const sched::scaling_input& in, const std::string& decision);
    void wake(std::size_t worker, std::chrono::steady_clock::time_point now);
    void park(std::size_t worker, std::chrono::steady_clock::time_point now);
    // Takes in finished spawns: links their workers, or counts the failure.
    bool collect_spawns();
    // One finished spawn, by how it ended: false when its group is done with.
    bool late_spawn_returned(spawn_group& g, spawn_outcome& o);  // one given up on
    bool spawn_failed(spawn_group& g, const spawn_outcome& o);
    void spawn_linked(spawn_group& g, spawn_outcome& o);
    void for_members(const spawn_group& g, const std::function<void(worker_info&)>& fn);
    void start_spawn(std::size_t count);
    // A new group of `count` workers, starting (of satellite `satellite`, if given); its id.
    std::uint64_t add_group(int count, std::optional<std::uint64_t> satellite = {});
    // A port for group `id` to join at; none if MPI cannot open one (the group is then given
    // up on, and collect_spawns reports it failed).
    std::optional<std::string> open_port(std::uint64_t id);
    // Starts group `id` on a node of --tide-nodes (its launcher, then the accept it joins by).
    void launch_on_node(std::uint64_t id, const spawn_group& g);
    // Workers started or starting on each node of --tide-nodes, and the slots left there.
    std::vector<int> workers_per_node() const;
    std::size_t node_slots_free() const;
    // Whether a worker of a group that has joined from `node` is still in the run.
    bool joined_workers_left(std::size_t node) const;
    // Takes in launchers that ended (at the heartbeat check's pace): a group that had not
    // joined failed; one that had lost its workers, unless they all ended normally. Their node
    // is not used again.
    void reap_launchers();
    // No more workers are started on `node` (of --tide-nodes) in this run.
    void lose_node(std::size_t node, const std::string& why);
    // Tells spawn group `group` to finish for good (all of it: it disconnects as one).
    void retire_group(std::uint64_t group);
    // Disconnects groups whose workers have all said goodbye; with `force`, also those whose
    // messages are still in flight (the run is over).
    void release_groups(bool force);
    std::size_t live_workers() const;  // started or starting, not gone
    // --- satellites (rank0/satellites.cpp) -----------------------------------------------------
    // Takes in what the satellites' jobs did (at most every scaling tick).
    void take_satellite_news();
    // Once a second, asks the satellite policy whether to submit, cancel or retire one, given
    // the pool as the scaling policy saw it.
    void tend_satellites(const sched::scaling_input& pool);
    // As the run ends: satellites not started are cancelled (never waits). At its very end:
    // those whose workers did not all end too, within `deadline`.
    void stop_satellites();
    void finish_satellites(std::chrono::steady_clock::time_point deadline);
    // Writes the satellites' job script and asks Slurm how long a satellite would wait.
    void start_satellites(satellite_launch_settings settings);
    void take_satellite_event(const satellite_jobs::event& e);
    // Whether the ompi-server satellites join through has stopped answering: if so, says so
    // and submits no more.
    bool server_gone();
    // Satellite `id`'s job started with `count` tasks: its workers get ranks and a port to join.
    void satellite_started(std::uint64_t id, int count);
    // A satellite's group linked (`joined`) or failed to.
    void satellite_joined(const spawn_group& g, bool joined);
    // Workers of satellites, not gone (they do not count against the allocation's slots).
    std::size_t satellite_workers() const;
    // Runs the first queued task that rank 0 may start itself; false if none may (late in a
    // job, rank 0 stands in for the workers it would spawn now: see take_from_queue).
    bool run_one_locally();
    // Takes up to `count` tasks from the head of the central queue into `out`, for a worker
    // that joined the pool at `joined`, by the queue's rules (late in a job, tasks that could
    // not finish since it joined are passed over; a suspect goes alone, and only if
    // `alone_ok`). Returns whether any task was passed over.
    bool take_from_queue(std::size_t count, std::chrono::steady_clock::time_point joined,
                         bool alone_ok, std::vector<sched::task_id>& out);
    // Seconds until the job's end while the time limit applies; infinite without one, and
    // once the end has passed (the job still runs: holding work back would only stall it).
    double seconds_left() const;
    // Queued work that a worker brought in now could finish before the job's end.
    sched::load_estimator::queued_work work_for_new_workers() const;
    // Says once that the job is about to reach its limit, with what is left undone.
    void warn_near_end();
    // A new task, or with `range` a range of a bulk submission (args packed).
    sched::task_id enqueue(const task_entry& entry, bytes args, bool range = false);
    // A task whose arguments are all known starts: answered from the journal if it has the
    // result (never run), else queued.
    void start(sched::task_id id, sched::task_record& rec, bytes args);
    // Throws tide::error for a task the journal could not recognise (unordered arguments).
    void check_journalable(const task_entry& entry) const;
    // The journal's result for this call, if it has one.
    std::optional<std::span<const std::byte>> journaled(std::uint64_t name_hash, const bytes& args);
    // --- task graphs (rank0/graph.cpp) -----------------------------------------------------------
    // Records a task (`entry`; none for a join) that takes the results of `inputs`: held in
    // `graph` until the last one finishes, started at once if all have, failed at once if one
    // failed.
    sched::task_id enqueue_after(const task_entry* entry, bytes literal,
                                 std::vector<sched::task_graph::input> inputs);
    // `producer` ended (`why`, `payload` as complete() got them): the tasks waiting for it get
    // its result, and start when it was their last input, or fail with its error. Joins that
    // complete and tasks that fail pass it on in turn, through a work list (a chain of any
    // length takes no stack).
    void feed_consumers(sched::task_id producer, sched::outcome why,
                        std::span<const std::byte> payload, int worker);
    // Sends held tasks ahead to the worker where their missing inputs are made (run there or
    // waiting there themselves), to wait there: a chain then runs without a round trip
    // through rank 0 per step. `candidates` are tasks that may have become eligible; those
    // sent are followed by their own consumers. At most --tide-prefetch tasks wait ahead on
    // a worker; the rest wait here, as they would anyway.
    void send_ahead(std::vector<sched::task_id> candidates);
    // Where a held task should wait, if every input it misses is running or waiting on some
    // worker: the one that makes most of them, unless the backlog there outweighs the hops
    // saved (as Dask's worker_objective weighs them).
    std::optional<std::size_t> ahead_target(sched::task_id id);
    // Whether every input a held task misses is done, its result kept on a worker.
    bool only_kept_missing(sched::task_id id) const;
    // Queues `from`'s result (or error) for `task`, which waits ahead on `worker`.
    void forward_input(sched::task_id task, int worker, sched::task_id from, bool failed,
                       std::span<const std::byte> result);
    // Sends the inputs collected for tasks waiting ahead, one message per worker.
    void flush_forwards();
    // Tasks sent ahead that the worker could not take (an input had finished there before
    // they came): held here again, or started if all their inputs are here.
    void accept_bounced(std::size_t worker, const wire::pending_bounced& b);
    // --- bulk submissions (rank0/bulk.cpp) -------------------------------------------------
    // The record to look at for a task: itself, or for a bulk submission's task the record of
    // its range (or its own, once split). Throws for a bulk task whose group has ended.
    sched::task_id record_of(task_id id);
    // A range lost with its worker becomes one record per task, each lost once more (they run
    // alone, as suspects), appended to `out`; the range's record goes.
    void split_range(sched::task_id id, sched::task_record& rec, std::vector<sched::task_id>& out);
    // Checks a range's packed results from `worker` against the range: false (and the range
    // fails) for results that do not fit it.
    bool range_results_fit(sched::task_id id, sched::task_record& rec,
                           std::span<const std::byte> results, std::size_t worker);
    // A task of a finished range: its result bytes, or throws its error.
    bytes range_element(sched::task_id id, const sched::task_record& rec, std::uint32_t index);
    // A bulk task's future (or map) is done with it: the group ends with its last one.
    void drop_handle(const bulk_ids& ids, bulk_group& g);
    // A bulk task as another task's input: its record if it has one of its own; for a task of
    // a range, a stand-in record (added to `stand_ins`) that runs nothing and finishes with that
    // task's result when its range finishes (at once if it has).
    sched::task_id input_record(task_id id, std::vector<sched::task_id>& stand_ins);
    // Record `id` finished: the stand-ins waiting for its tasks finish with their results.
    void finish_stand_ins(sched::task_id id, const sched::task_record& rec, sched::outcome why,
                          std::span<const std::byte> payload);
    // Runs a range on rank 0 itself (a single rank): its packed results into `out`.
    sched::outcome run_range_locally(const sched::task_record& rec, bytes& out);
    // A bulk task's result for its future: taken (the future is done with it) or peeked.
    bytes bulk_result(task_id id, bool take);
    void release_bulk_task(task_id id);
    // Forgets every record of a bulk submission still here (erased if finished, dropped when
    // they finish otherwise) and ends its group.
    void release_group(const bulk_ids& ids);
    // A future is gone: forget its task once it finishes.
    void release_record(sched::task_id id);
    // The task_error of a failed task (a tide::worker_lost for one lost with its workers).
    std::exception_ptr failure_of(task_id id, const sched::task_record& rec);
    // The record of a finished task whose result is on rank 0; throws tide::error otherwise.
    sched::task_record& finished_record(task_id id);

    // --- results kept on workers (rank0/kept.cpp) ------------------------------------------
    // Whether workers may keep large results (--tide-keep-results; never with a journal,
    // which records every result here).
    bool keeping() const { return cfg.keep_results > 0 && !journal; }
    // Task `id` finished on `worker`, which keeps its result of `size` bytes.
    void keep_result(sched::task_id id, sched::task_record& rec, std::size_t worker,
                     std::uint64_t size);
    // Asks the worker keeping `id`'s result for it (once; the answer comes as
    // fetched_results).
    void fetch_result(sched::task_id id);
    void accept_fetched(std::size_t worker, wire::fetched_results& f);
    // The inputs a held task misses that are kept on workers: fetched (unless it waits ahead
    // where they are kept), or made again if no worker has them any more.
    void need_inputs(sched::task_id consumer);
    // The same, but the inputs to make again are added to `gone` (for remake's work list).
    void need_inputs(sched::task_id consumer, std::vector<sched::task_id>& gone);
    // Makes kept results that no worker has any more again: from their arguments, or held
    // for their own inputs (lineage), which are made again in turn if they are gone too.
    void remake(std::vector<sched::task_id> ids);
    // `worker` is gone with the results it kept: those still needed are made again.
    void lose_kept(std::size_t worker);
    // Whether `worker` keeps results for rank 0 (it is then not retired).
    bool keeps_results(std::size_t worker) const;
    // Whether a task's result is here for get(): finished, and not kept on a worker (whose
    // result is fetched then).
    bool result_here(sched::task_id id);
    // Whether a kept result's bytes are still wanted: by its future, or by a task that has not
    // run yet.
    bool bytes_wanted(sched::task_id id, const sched::task_record& rec) const;
    // Releases the kept results among `maybe_unneeded` that nothing wants (their workers free
    // them), and forgets the records that nothing needs even to make another result again.
    void release_unneeded();
    // The error a failed task passes to the tasks that take its result, encoded as a child's
    // failure: get() on them throws the failed task's own task_error.
    bytes failure_for_consumers(sched::task_id producer, sched::outcome why,
                                std::span<const std::byte> payload, int worker);
    // The name of a task for an error message.
    std::string name_of(sched::task_id id, const sched::task_record& rec) const;
    // What every end of a task does, its result kept or not: `worker` (-1: none) no longer
    // holds it, its loss history goes, and the driver's tasks are counted.
    void count_end(sched::task_id id, sched::task_record& rec, sched::outcome why, int worker);
    // Records a task's end: `why` is outcome::ok for a result, else the payload is the error.
    void complete(sched::task_id id, sched::task_record& rec, sched::outcome why,
                  std::span<const std::byte> payload, int worker);
    // Fails the tasks `worker` holds (those of one batch, or all) with a protocol error.
    void fail_running(int worker, std::optional<std::uint64_t> batch, const std::string& reason);
    // The tasks running on `worker` (sent, stolen by it, lent to it), of the given batches
    // only if any are given.
    std::vector<sched::task_id> running_on(int worker, std::span<const std::uint64_t> batches = {});
    // Tells the estimator each worker's tasks in hand and hunger, before it is asked anything.
    void sync_estimator();
    void protocol_fault(int source, const std::string& what);
    bool finished(sched::task_id id) const;
    void check_open() const;  // throws once the run has ended
    bool outstanding() const;
    // A worker waits for work through rank 0 (hungry, or a steal order is out): poll promptly.
    bool brokering() const;
    // When the next result should arrive that rank 0 can predict: that of a task of known
    // duration alone on its worker (sent alone, nothing else in hand), whichever window opens
    // first; only lent children (whose results a waiting parent needs forwarded) if
    // `lent_only`. A driver's wait and the background thread poll around it rather than sleep
    // through it.
    std::optional<sched::expected_result> next_expected_result(bool lent_only) const;
    std::size_t running() const;
    // Rank 0 runs tasks itself while no worker is there or on its way (a single rank, or a
    // singleton whose spawns failed or have not started).
    bool local_mode() const;
    // The rank and host of a worker, or of rank 0 for -1 (a task rank 0 ran itself).
    int rank_of(int worker) const;
    std::string host_of(int worker) const;

    // --- background progress ------------------------------------------------------------------
    void start_background();
    void stop_background();
    void wake_dozing_background();  // needs `mu`
    void background_loop();

    // Ends every worker (and disconnects the spawned ones) before the shutdown deadline.
    engine::ending shutdown();
    // What the run did, to the log (the workers' totals, stealing) and to the observers.
    void log_end();

    const config& cfg;
    transport& net;
    std::string host;

    std::mutex mu;
    message_router<std::size_t> router;  // by the sending worker
    sched::task_table tasks;
    bulk_groups bulk;  // bulk submissions in use (map, submit_all)
    // Since when the driver has been adding a bulk submission's ranges (none: not now).
    std::optional<std::chrono::steady_clock::time_point> bulk_arriving;
    // Stand-ins for tasks of ranges taken as inputs, by the record they wait for: the task's
    // index there and the stand-in.
    std::unordered_map<sched::task_id, std::vector<std::pair<std::uint32_t, sched::task_id>>>
        stand_ins;
    sched::task_graph graph;  // tasks held for their inputs
    // Tasks that ended while feed_consumers was passing a result on: theirs is passed on next.
    struct ended_in_graph {
        sched::task_id id;
        sched::outcome why;
        bytes payload;
    };
    std::vector<ended_in_graph> graph_work;
    bool feeding = false;
    std::unordered_map<std::size_t, wire::input_forward> forwards;  // by worker, to send
    // Results kept on workers, by task. A record whose result is kept has `kept` set; its
    // payload keeps its arguments (if rank 0 has them all; else the graph keeps what it has),
    // to make it again if that worker is lost.
    struct kept_result {
        int holder = -1;  // the worker keeping it; -1: released or lost (its lineage remains)
        std::uint64_t size = 0;
        bool fetching = false;
    };
    std::unordered_map<sched::task_id, kept_result> kept;
    std::size_t fetches_in_flight = 0;
    std::vector<sched::task_id> maybe_unneeded;  // kept results to look at (release_unneeded)
    std::vector<sched::graph_worker> placement_scratch;
    sched::central_queue queue;
    worker_pool workers;
    std::vector<sched::worker_load> loads_scratch;
    std::vector<wire::result_view> results_scratch;
    std::vector<sched::task_record*> batch_records;  // scratch of send_tasks()
    std::vector<sched::task_id> batch_ids;           // scratch of dispatch()
    sched::load_estimator estimator;
    lent_tasks lent;  // nested tasks lent to thieves, and their results on the way back
    std::unique_ptr<rank0_context> local_tasks;  // single rank only
    sched::scaling_policy policy;
    std::unique_ptr<spawner> spawns;  // null when rank 0 may not spawn
    std::unordered_map<std::uint64_t, spawn_group> groups;
    std::unique_ptr<node_groups> nodes;          // with --tide-nodes
    std::unique_ptr<satellite_jobs> satellites;  // with --tide-satellites
    std::optional<sched::satellite_policy> satellite_policy;
    std::map<std::uint64_t, satellite_record> satellite_records;
    std::uint64_t next_satellite = 1;
    std::chrono::steady_clock::time_point last_satellite_tick, last_satellite_poll;
    std::uint64_t next_group = 1;
    bool spawning_off = false;            // too many spawns never returned: no more for this run
    bool spawned_end_themselves = false;  // see launch_facts
    worker_places places;
    // The allocation and the job's end (job.ends_at), if known; the warning that the end is
    // near comes once, when end_warning_seconds are left.
    allocation job;
    double end_warning_seconds = 0;
    // Worker loss: where each task lost with a worker was lost (for its error, if it fails).
    std::unordered_map<sched::task_id, std::string> loss_history;
    std::chrono::steady_clock::time_point last_heartbeat_check, last_heartbeat_sent;
    bool beating = false;  // rank 0 has background progress: heartbeats go both ways
    bool end_warned = false;
    // The current burst: when work arrived while nothing was outstanding, and whether a worker
    // brought in meanwhile has had its first task.
    std::optional<std::chrono::steady_clock::time_point> burst_started;
    bool burst_answered = false;
    std::optional<std::chrono::steady_clock::time_point> first_submit, last_finish;
    std::chrono::steady_clock::time_point started, last_tick;
    run_observer observer;                    // progress line, timeline, trace
    std::unique_ptr<result_journal> journal;  // --tide-journal
    std::unordered_map<sched::task_id, std::string> names_of_unknown;  // for error messages
    std::uint64_t next_seq = 1;
    bool shutting_down = false;
    bool closed = false;  // the run is over: futures that outlived it get an error
    engine_counters counters;
    steal_broker stealing;  // steal orders in flight (after `counters`, which it counts in)

    std::chrono::steady_clock::time_point last_pump;
    std::condition_variable wake_background;
    bool background_dozing = false;  // in its long sleep, nothing outstanding
    bool background_busy = false;    // its last pump moved something
    std::chrono::steady_clock::time_point background_pumped_at;  // when it last pumped
    bool stop = false;
    std::thread background;
};

}  // namespace tide::detail
