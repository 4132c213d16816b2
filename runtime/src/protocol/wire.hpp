#pragma once
// tide's wire protocol: every message between ranks, written down in one place.
//
// Each message is one MPI message on the runtime's own communicator; the MPI tag is the
// message type. Integers are little-endian fixed width (ranks of one job share a byte order).
//
// clang-format off
// | type           | from -> to  | body                                                     | effect on the receiver                          |
// |----------------|-------------|----------------------------------------------------------|-------------------------------------------------|
// | hello          | worker -> 0 | u32 version, u32 pid, str host                           | worker's host known (errors, later binding)     |
// | task_batch     | 0 -> worker | u64 seq, u32 n, n x {u64 id, u64 name, u64 sig, u8 flags,| tasks join the worker's local queue; a large    |
// |                |             | blob}; flags: 1 keep, 2 range (blob: a packed range of   | result of a `keep` task stays on the worker; a  |
// |                |             | many tasks' arguments, tide/detail/packed_range.hpp)     | range runs its tasks one after another          |
// | result_batch   | worker -> 0 | u32 in_hand, u32 n, n x {u64 id, u8 status, blob}; a     | tasks done/failed, worker's in-hand count drops;|
// |                |             | status with kept_flag set: blob = u64 size of a result   | a kept result is recorded as held there; a      |
// |                |             | the worker keeps; a range's blob: its packed results     | range's results come in one entry               |
// | batch_rejected | worker -> 0 | u64 seq, str reason                                      | every task of batch `seq` fails (protocol)      |
// | shutdown       | 0 -> worker | u32 without_finalize                                     | worker drops its queue, answers goodbye, exits  |
// |                |             |                                                          | (without MPI_Finalize after a worker died)      |
// | goodbye        | worker -> 0 | u64 executed, u64 dropped, u64 protocol_errors, f64 cpu, | worker is gone; its counters reach the log and  |
// |                |             | f64 busy                                                 | the run's statistics                            |
// | status         | worker -> 0 | u32 queued, u32 unstarted, u64 executed, f64 busy,       | load estimator updated; a worker found dry by a |
// |                |             | f64 span, u32 n, n x {u64 name, u64 count, f64 sum,      | steal may be a victim again                     |
// |                |             | f64 sum_sq}                                              |                                                 |
// | steal_request  | worker -> 0 | u64 batches received so far, u64 messages received from  | worker is hungry (idempotent) until rank 0      |
// |                |             | rank 0 so far                                            | sends it a task_batch; stale if rank 0 has sent |
// |                |             |                                                          | it batches it had not seen (it asks again); a   |
// |                |             |                                                          | batch sent before the last message it received  |
// |                |             |                                                          | and not among its batches is lost: requeued     |
// | steal_order    | 0 -> victim | u64 order, u32 thief                                     | victim answers with exactly one `stolen`        |
// | stolen         | victim -> 0 | u64 order, u32 queued, u32 n, n x u64 id, u32 m, m x u64 | returned ids (sent, not started) and the lent   |
// |                |             | parent, then a task_batch body of m tasks whose ids are  | nested tasks are recorded and sent to the thief |
// |                |             | the victim's tokens (parent: the id of the task that     | (a lent task's parent goes into the trace)      |
// |                |             | submitted it, or of its nearest ancestor rank 0 knows)   |                                                 |
// | child_results  | 0 -> origin | u32 rank, str host, u32 n, n x {u64 token, u8 status,    | lent nested tasks finish; their futures are     |
// |                |             | blob}                                                    | ready on the worker that submitted them         |
// | park           | 0 -> worker | (empty)                                                  | worker idles at a slow poll (almost no CPU) and |
// |                |             |                                                          | asks for no work until woken                    |
// | wake           | 0 -> worker | (empty)                                                  | worker is active again (so is any task_batch)   |
// | topology       | worker -> 0 | str summary, str given PUs, u32 n, n x {u32 core, str    | rank 0 knows the cores the worker may use and   |
// |                |             | PUs, u32 numa, u32 package}                              | assigns it a place                              |
// | bind           | 0 -> worker | str PUs                                                  | worker binds itself there, reads it back        |
// | bound          | worker -> 0 | u32 ok, str PUs read back, str error                     | the binding map is updated (or the failure told)|
// | heartbeat      | 0 <-> worker| (empty)                                                  | the sender is alive (any message says so; this  |
// |                |             |                                                          | one is sent when nothing else was for a while)  |
// | tracing        | 0 -> worker | (empty)                                                  | the worker records when each task it receives   |
// |                |             |                                                          | runs and sends `spans` before each result batch |
// | spans          | worker -> 0 | f64 sent_at, u32 n, n x {u64 id, u64 name, f64 start,    | the tasks' spans join the trace (--tide-trace); |
// |                |             | f64 seconds} (times on the worker's steady clock)        | rank 0 maps the worker's clock to its own       |
// | lent_forecast  | 0 -> origin | u32 n, n x {u64 token, f64 seconds, f64 variance}        | a task waiting for a lent child polls around    |
// |                |             | (estimated duration of each lent task sent to a thief)   | when its result should come back                |
// | pending_batch  | 0 -> worker | u64 seq, u32 keep, u32 n, n x {u64 id, u64 name, u64 sig,| tasks of a graph wait on the worker for inputs  |
// |                |             | blob arguments, u32 k, k x {u64 at, u64 from, u32 local}}| produced there (or forwarded); each starts when |
// |                |             | arguments without the k inputs' results, where each goes | its last input is in (counts as a batch)        |
// | input_forward  | 0 -> worker | u32 n, n x {u64 task, u64 from, u32 failed, blob result} | a pending task's input, made on another worker  |
// | pending_bounced| worker -> 0 | u32 n, n x u64 id                                        | pending tasks whose input had already finished  |
// |                |             |                                                          | here when they came: rank 0 feeds them itself   |
// | fetch_results  | 0 -> worker | u32 n, n x u64 id                                        | the worker answers fetched_results and forgets  |
// |                |             |                                                          | them (kept results rank 0 needs)                |
// | fetched_results| worker -> 0 | u32 n, n x {u64 id, u32 found, blob result}              | kept results reach rank 0 (for get(), or a task |
// |                |             |                                                          | elsewhere); one not found is lost: made again   |
// | release_results| 0 -> worker | u32 n, n x u64 id                                        | kept results nothing needs any more are freed   |
// clang-format on
//
// Stealing, step by step: an idle worker sends steal_request once and waits. Rank 0 answers
// from its central queue if it can (a task_batch); otherwise, when its estimates show a
// victim (most backlog first), it sends steal_order, at most one outstanding per thief and one
// per victim. The victim gives half of what it could give (tasks it received but has not
// started if it has any, else its oldest nested tasks) and always answers; a thief fed from
// the central queue meanwhile no longer gets them (they join that queue); an empty `stolen` marks
// it dry until its next status, and the thief stays hungry for the next victim. Every task moved is
// accounted on rank 0 (a lent nested task gets a rank-0 id whose result is forwarded to its
// origin), so the tests can count each exactly once.
//
// blob = u32 length + bytes; str = u16 length + bytes. status: a sched::outcome.
// Decoding checks every length against the bytes present and throws tide::protocol_error for
// anything short, oversized or of unknown type, so a bad frame is rejected and counted, never
// trusted.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tide/detail/serialize.hpp"
#include "tide/error.hpp"
#include "tide/scheduler/outcome.hpp"

namespace tide::wire {

using detail::bytes;
inline constexpr std::uint32_t protocol_version = 9;

enum class msg : int {
    hello = 1,
    task_batch = 2,
    result_batch = 3,
    batch_rejected = 4,
    shutdown = 5,
    goodbye = 6,
    status = 7,
    steal_request = 8,
    steal_order = 9,
    stolen = 10,
    child_results = 11,
    park = 12,
    wake = 13,
    topology = 14,
    bind = 15,
    bound = 16,
    heartbeat = 17,
    tracing = 18,
    spans = 19,
    lent_forecast = 20,
    pending_batch = 21,
    input_forward = 22,
    pending_bounced = 23,
    fetch_results = 24,
    fetched_results = 25,
    release_results = 26,
    last = release_results,  // the highest tag: a new message type moves it
};

// ---- writing ---------------------------------------------------------------------------------

class writer {
public:
    explicit writer(bytes& out) : out_(out) {}
    void u8(std::uint8_t v) { put(&v, 1); }
    void u16(std::uint16_t v) { put(&v, 2); }
    void u32(std::uint32_t v) { put(&v, 4); }
    void u64(std::uint64_t v) { put(&v, 8); }
    void f64(double v) { put(&v, 8); }
    void str(std::string_view s);  // throws protocol_error past 65535 bytes
    // Field visitors for the small messages.
    void operator()(std::uint32_t v) { u32(v); }
    void operator()(std::uint64_t v) { u64(v); }
    void operator()(double v) { f64(v); }
    void operator()(const std::string& v) { str(v); }
    void operator()(bytes& v) { blob(v); }  // not const: preferred to the vector template
    template <class T>
    void operator()(std::vector<T>& items) {
        u32(static_cast<std::uint32_t>(items.size()));
        for (auto& item : items) visit_item(item);
    }
    void blob(std::span<const std::byte> data);  // throws protocol_error past 4 GiB
    // Reserves a u32 to be filled by patch_u32 once the size is known.
    std::size_t reserve_u32();
    void patch_u32(std::size_t at, std::uint32_t v);
    std::size_t size() const { return out_.size(); }
    bytes& buffer() { return out_; }

private:
    template <class T>
    void visit_item(T& item) {
        if constexpr (std::is_arithmetic_v<T>) {
            (*this)(item);
        } else {
            item.fields(*this);
        }
    }
    void put(const void* p, std::size_t n);
    bytes& out_;
};

// ---- reading ---------------------------------------------------------------------------------

class reader {
public:
    explicit reader(std::span<const std::byte> in) : in_(in) {}
    std::uint8_t u8() { return fixed<std::uint8_t>(); }
    std::uint16_t u16() { return fixed<std::uint16_t>(); }
    std::uint32_t u32() { return fixed<std::uint32_t>(); }
    std::uint64_t u64() { return fixed<std::uint64_t>(); }
    double f64() { return fixed<double>(); }
    std::string str();
    std::span<const std::byte> blob();
    void operator()(std::uint32_t& v) { v = u32(); }
    void operator()(std::uint64_t& v) { v = u64(); }
    void operator()(double& v) { v = f64(); }
    void operator()(std::string& v) { v = str(); }
    void operator()(bytes& v) {
        const auto b = blob();
        v.assign(b.begin(), b.end());
    }
    // Elements are read one by one (never reserved from the count, which may lie); every
    // element takes at least a byte, so a count beyond the bytes left is rejected at once.
    template <class T>
    void operator()(std::vector<T>& items) {
        const auto n = u32();
        if (n > remaining())
            throw protocol_error("tide: list of " + std::to_string(n) +
                                 " items in a message with " + std::to_string(remaining()) +
                                 " bytes left");
        items.clear();
        for (std::uint32_t i = 0; i < n; ++i) {
            T item{};
            if constexpr (std::is_arithmetic_v<T>) {
                (*this)(item);
            } else {
                item.fields(*this);
            }
            items.push_back(std::move(item));
        }
    }
    // The bytes not read yet (the rest of a message made of two parts).
    std::span<const std::byte> rest() const { return in_.subspan(pos_); }
    bool done() const { return pos_ == in_.size(); }
    std::size_t remaining() const { return in_.size() - pos_; }
    void expect_done(const char* what) const;

private:
    template <class T>
    T fixed() {
        T v;
        get(&v, sizeof v);
        return v;
    }
    void get(void* p, std::size_t n);
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
};

// ---- messages --------------------------------------------------------------------------------

// The small messages list their fields once, in wire order; encode() and decode<M>() walk
// that list with a writer or a reader. Every message type (and every writer of a larger body)
// names its own tag, so a send (see messaging.hpp) cannot pair a body with another's tag.
struct hello {
    static constexpr const char* name = "hello";
    static constexpr msg tag = msg::hello;
    std::uint32_t version = protocol_version;
    std::uint32_t pid = 0;
    std::string host;
    template <class V>
    void fields(V& v) {
        v(version), v(pid), v(host);
    }
};

// A task inside a received batch; `args` points into the batch's buffer.
struct task_view {
    std::uint64_t id;
    std::uint64_t name_hash;
    std::uint64_t signature;
    std::span<const std::byte> args;
    bool keep = false;   // a large result may stay on the worker (see kept_results)
    bool range = false;  // args is a packed range of tasks (validated on decoding)
};
// A task_batch entry's flags.
inline constexpr std::uint8_t task_keep = 1, task_range = 2;
// Bytes of framing around each entry: a task is u64 id, u64 name, u64 signature, u8 flags, u32
// length; a result is u64 id, u8 status, u32 length. A count larger than a frame could hold is
// a lie.
inline constexpr std::size_t task_entry_framing = 29;
inline constexpr std::size_t result_entry_framing = 13;

struct task_batch_header {
    std::uint64_t seq;
    std::uint32_t count;
};
// Builds a task_batch in place: start, add tasks, finish.
class task_batch_writer {
public:
    static constexpr msg tag = msg::task_batch;  // of the body it builds
    task_batch_writer(bytes& out, std::uint64_t seq);
    void add(std::uint64_t id, std::uint64_t name_hash, std::uint64_t signature,
             std::span<const std::byte> args, bool keep, bool range = false);
    std::uint32_t count() const { return count_; }

private:
    writer w_;
    std::size_t count_at_;
    std::uint32_t count_ = 0;
};
// Validates the whole frame before returning any task.
task_batch_header decode_task_batch(std::span<const std::byte> body, std::vector<task_view>& out);
// The sequence number alone, for rejecting a batch that does not decode (nullopt if even that
// is missing).
bool peek_batch_seq(std::span<const std::byte> body, std::uint64_t& seq);

// Set in a result's status byte: the worker keeps the result, and the payload is its size.
inline constexpr std::uint8_t kept_flag = 0x80;
struct result_view {
    std::uint64_t id;
    sched::outcome status;
    std::span<const std::byte> payload;  // result bytes, or the error text
    // The worker keeps the result (status ok, payload empty): its size in bytes.
    std::optional<std::uint64_t> kept;
};
class result_batch_writer {
public:
    static constexpr msg tag = msg::result_batch;  // of the body it builds
    explicit result_batch_writer(bytes& out);
    // Appends a result whose payload the caller writes next into buffer(); then end_result.
    void begin_result(std::uint64_t id);
    void end_result(sched::outcome status);
    // A successful result of `size` bytes that the worker keeps.
    void add_kept(std::uint64_t id, std::uint64_t size);
    void set_in_hand(std::uint32_t in_hand);
    std::uint32_t count() const { return count_; }
    bytes& buffer() { return w_.buffer(); }

private:
    writer w_;
    std::size_t in_hand_at_;
    std::size_t count_at_;
    std::size_t status_at_ = 0;
    std::size_t len_at_ = 0;
    std::uint32_t count_ = 0;
};
struct result_batch_header {
    std::uint32_t in_hand;
    std::uint32_t count;
};
result_batch_header decode_result_batch(std::span<const std::byte> body,
                                        std::vector<result_view>& out);

struct batch_rejected {
    static constexpr const char* name = "batch_rejected";
    static constexpr msg tag = msg::batch_rejected;
    std::uint64_t seq = 0;
    std::string reason;
    template <class V>
    void fields(V& v) {
        v(seq), v(reason);
    }
};

struct goodbye {
    static constexpr const char* name = "goodbye";
    static constexpr msg tag = msg::goodbye;
    std::uint64_t executed = 0;
    std::uint64_t dropped = 0;  // tasks still queued at shutdown, never run
    std::uint64_t protocol_errors = 0;
    double cpu_seconds = 0;
    double busy_seconds = 0;  // time in tasks over the worker's life (children included)
    template <class V>
    void fields(V& v) {
        v(executed), v(dropped), v(protocol_errors), v(cpu_seconds), v(busy_seconds);
    }
};

struct duration_summary {
    std::uint64_t name = 0;
    std::uint64_t count = 0;
    double sum = 0;
    double sum_of_squares = 0;
    template <class V>
    void fields(V& v) {
        v(name), v(count), v(sum), v(sum_of_squares);
    }
};

struct status {
    static constexpr const char* name = "status";
    static constexpr msg tag = msg::status;
    std::uint32_t queued = 0;     // nested tasks in the worker's deque
    std::uint32_t unstarted = 0;  // received tasks not started
    std::uint64_t executed = 0;   // tasks run since the last status
    double busy = 0;              // seconds spent in tasks since the last status
    double span = 0;              // seconds since the last status
    std::vector<duration_summary> durations;
    template <class V>
    void fields(V& v) {
        v(queued), v(unstarted), v(executed), v(busy), v(span), v(durations);
    }
};

// A core the worker may use; PUs as a list "0,8" (OS indices).
struct core_report {
    std::uint32_t core = 0;
    std::string pus;
    std::uint32_t numa = 0;
    std::uint32_t package = 0;
    template <class V>
    void fields(V& v) {
        v(core), v(pus), v(numa), v(package);
    }
};

struct topology {
    static constexpr const char* name = "topology";
    static constexpr msg tag = msg::topology;
    std::string summary;
    std::string given;  // the PUs the worker started bound to
    std::vector<core_report> cores;
    template <class V>
    void fields(V& v) {
        v(summary), v(given), v(cores);
    }
};

struct bind {
    static constexpr const char* name = "bind";
    static constexpr msg tag = msg::bind;
    std::string pus;
    template <class V>
    void fields(V& v) {
        v(pus);
    }
};

struct bound {
    static constexpr const char* name = "bound";
    static constexpr msg tag = msg::bound;
    std::uint32_t ok = 0;
    std::string pus;    // the binding read back
    std::string error;  // why it failed
    template <class V>
    void fields(V& v) {
        v(ok), v(pus), v(error);
    }
};

struct steal_request {
    static constexpr const char* name = "steal_request";
    static constexpr msg tag = msg::steal_request;
    std::uint64_t batches_received = 0;
    // Every message from rank 0 counts (MPI delivers one sender's messages in order): a batch
    // sent before the last of them and not received was lost, not delayed.
    std::uint64_t messages_received = 0;
    template <class V>
    void fields(V& v) {
        v(batches_received), v(messages_received);
    }
};

// How long a lent task should take, from rank 0's estimates, once it went to the thief.
struct lent_estimate {
    std::uint64_t token = 0;  // the origin's
    double seconds = 0;
    double variance = 0;
    template <class V>
    void fields(V& v) {
        v(token), v(seconds), v(variance);
    }
};

struct lent_forecast {
    static constexpr const char* name = "lent_forecast";
    static constexpr msg tag = msg::lent_forecast;
    std::vector<lent_estimate> tasks;
    template <class V>
    void fields(V& v) {
        v(tasks);
    }
};

struct steal_order {
    static constexpr const char* name = "steal_order";
    static constexpr msg tag = msg::steal_order;
    std::uint64_t order = 0;
    std::uint32_t thief = 0;  // rank, for the victim's log
    template <class V>
    void fields(V& v) {
        v(order), v(thief);
    }
};

// ---- task graphs sent ahead (see rank0/graph.cpp) ------------------------------------------

// Where an input's result goes in a pending task's arguments, and the task that makes it.
struct graph_input {
    static constexpr std::uint64_t order_only = ~std::uint64_t{0};  // carries no value
    std::uint64_t at = 0;
    std::uint64_t from = 0;
    std::uint32_t local = 0;  // made on the same worker (else rank 0 forwards it)
    template <class V>
    void fields(V& v) {
        v(at), v(from), v(local);
    }
};
struct pending_task {
    std::uint64_t id = 0;
    std::uint64_t name_hash = 0;
    std::uint64_t signature = 0;
    bytes arguments;  // without the inputs' results
    std::vector<graph_input> inputs;
    template <class V>
    void fields(V& v) {
        v(id), v(name_hash), v(signature), v(arguments), v(inputs);
    }
};
struct pending_batch {
    static constexpr const char* name = "pending_batch";
    static constexpr msg tag = msg::pending_batch;
    std::uint64_t seq = 0;   // in the same sequence as task batches
    std::uint32_t keep = 0;  // as a task_batch task's `keep`, for all of them
    std::vector<pending_task> tasks;
    template <class V>
    void fields(V& v) {
        v(seq), v(keep), v(tasks);
    }
};
struct forwarded_input {
    std::uint64_t task = 0;
    std::uint64_t from = 0;
    std::uint32_t failed = 0;  // `result` is then the encoded task_error (as child_failed)
    bytes result;
    template <class V>
    void fields(V& v) {
        v(task), v(from), v(failed), v(result);
    }
};
struct input_forward {
    static constexpr const char* name = "input_forward";
    static constexpr msg tag = msg::input_forward;
    std::vector<forwarded_input> inputs;
    template <class V>
    void fields(V& v) {
        v(inputs);
    }
};
// The messages whose body is a list of task ids.
template <msg T>
struct id_list {
    static_assert(T == msg::pending_bounced || T == msg::fetch_results || T == msg::release_results,
                  "only pending_bounced, fetch_results and release_results are lists of ids");
    static constexpr msg tag = T;
    static constexpr const char* name = T == msg::pending_bounced ? "pending_bounced"
                                        : T == msg::fetch_results ? "fetch_results"
                                                                  : "release_results";
    std::vector<std::uint64_t> ids;
    template <class V>
    void fields(V& v) {
        v(ids);
    }
};
using pending_bounced = id_list<msg::pending_bounced>;

// ---- results kept on the worker that made them (see worker/kept_results.hpp) ---------------

using fetch_results = id_list<msg::fetch_results>;  // rank 0 wants these kept results
struct fetched_result {
    std::uint64_t id = 0;
    std::uint32_t found = 0;  // 0: the worker does not have it (the result is lost)
    bytes result;
    template <class V>
    void fields(V& v) {
        v(id), v(found), v(result);
    }
};
struct fetched_results {
    static constexpr const char* name = "fetched_results";
    static constexpr msg tag = msg::fetched_results;
    std::vector<fetched_result> results;
    template <class V>
    void fields(V& v) {
        v(results);
    }
};
using release_results = id_list<msg::release_results>;  // nothing needs these any more

// The end for a worker. After a worker died, MPI_Finalize may wait for it for ever: then
// every survivor leaves without it.
struct shutdown {
    static constexpr const char* name = "shutdown";
    static constexpr msg tag = msg::shutdown;
    std::uint32_t without_finalize = 0;
    template <class V>
    void fields(V& v) {
        v(without_finalize);
    }
};

// The head of a `stolen` message; a task_batch body follows it.
struct stolen_head {
    static constexpr const char* name = "stolen";
    std::uint64_t order = 0;
    std::uint32_t queued = 0;             // the victim's deque after giving
    std::vector<std::uint64_t> returned;  // rank-0 ids given back unstarted
    // Per lent task, in order: the rank-0 id of the task that submitted it (or of its nearest
    // ancestor that rank 0 knows; 0 for none). Its count must match the lent tasks'.
    std::vector<std::uint64_t> parents;
    template <class V>
    void fields(V& v) {
        v(order), v(queued), v(returned), v(parents);
    }
};
// Builds a `stolen` message: the head (with every lent task's parent), then the lent tasks
// added one by one, as many as the head has parents.
class stolen_writer {
public:
    static constexpr msg tag = msg::stolen;  // of the body it builds
    stolen_writer(bytes& out, stolen_head head);
    void add(std::uint64_t token, std::uint64_t name_hash, std::uint64_t signature,
             std::span<const std::byte> args) {
        lent_.add(token, name_hash, signature, args, false);  // its result goes to its origin
    }
    std::uint32_t lent() const { return lent_.count(); }
    void set_queued(std::uint32_t queued);

private:
    std::size_t queued_at_;
    bytes& out_;
    task_batch_writer lent_;
};
struct stolen_view {
    stolen_head head;
    std::vector<task_view> lent;  // ids are the victim's tokens
};
stolen_view decode_stolen(std::span<const std::byte> body);

// child_results: who ran them, then entries laid out as in a result_batch.
struct child_results_header {
    std::uint32_t rank;
    std::string host;
};
class child_results_writer {
public:
    static constexpr msg tag = msg::child_results;  // of the body it builds
    child_results_writer(bytes& out, std::uint32_t rank, std::string_view host);
    void add(std::uint64_t token, sched::outcome status, std::span<const std::byte> payload);
    std::uint32_t count() const { return count_; }

private:
    writer w_;
    std::size_t count_at_;
    std::uint32_t count_ = 0;
};
child_results_header decode_child_results(std::span<const std::byte> body,
                                          std::vector<result_view>& out);

template <class M>
bytes encode(M m) {
    bytes out;
    writer w(out);
    m.fields(w);
    return out;
}

template <class M>
M decode(std::span<const std::byte> body) {
    reader r(body);
    M m;
    m.fields(r);
    r.expect_done(M::name);
    return m;
}

// When a task received from rank 0 ran on a worker, on that worker's steady clock (seconds).
struct span_report {
    std::uint64_t id = 0;
    std::uint64_t name = 0;  // the task's name hash (rank 0 need not look the task up)
    double start = 0;
    double seconds = 0;
};
inline constexpr std::size_t span_entry_size = 32;  // u64 id, u64 name, f64 start, f64 seconds
// Appends one entry in that layout.
void write_span_entry(bytes& out, const span_report& s);
// Builds a spans message: spans added one by one, the send time set last.
class spans_writer {
public:
    static constexpr msg tag = msg::spans;  // of the body it builds
    explicit spans_writer(bytes& out);
    void add(const span_report& s);
    void set_sent_at(double sent_at);

private:
    writer w_;
    std::size_t sent_at_;
    std::size_t count_at_;
    std::uint32_t count_ = 0;
};
// A validated spans message; its entries are read one at a time (rank 0 keeps them as bytes
// until it writes the trace).
struct spans_view {
    double sent_at = 0;  // the worker's clock when it sent them: rank 0 learns the offset
    std::uint32_t count = 0;
    std::span<const std::byte> entries;  // count x span_entry_size bytes
};
spans_view decode_spans(std::span<const std::byte> body);
// Entry `i` of entries laid out as in a spans message (i < entries.size() / span_entry_size).
span_report span_at(std::span<const std::byte> entries, std::size_t i);

// The messages without a body: decode<signal<...>> checks that none came.
template <msg T>
struct signal {
    static_assert(T == msg::park || T == msg::wake || T == msg::heartbeat || T == msg::tracing,
                  "only park, wake, heartbeat and tracing have no body");
    static constexpr msg tag = T;
    static constexpr const char* name = T == msg::park        ? "park"
                                        : T == msg::wake      ? "wake"
                                        : T == msg::heartbeat ? "heartbeat"
                                                              : "tracing";
    template <class V>
    void fields(V&) {}
};
using park = signal<msg::park>;
using wake = signal<msg::wake>;
using heartbeat = signal<msg::heartbeat>;
using tracing = signal<msg::tracing>;

}  // namespace tide::wire
