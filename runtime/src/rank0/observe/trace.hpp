#pragma once
// The run's trace, kept by rank 0 with --tide-trace=FILE and written at the end as Chrome
// trace-event JSON (opens in Perfetto and chrome://tracing): a track per rank with a span per
// task it ran (name, id, parent; a lent task is linked to its parent by a flow arrow), instant
// events for spawns, parks, wakes, retirements and losses on the workers' tracks and for each
// scaling decision and spawn request on the pool's, and counter tracks for workers by state, queued
// tasks and the estimated backlog (from the timeline's rows).
//
// Workers time their tasks on their own steady clock and send the spans ahead of their results;
// rank 0 maps each worker's clock to its own with the smallest (receive time - send time) seen
// from that worker, which is the clock offset plus the fastest one-way trip (on one host, where
// both read the same monotonic clock, only that trip).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/wire.hpp"
#include "rank0/observe/timeline.hpp"

namespace tide::detail {

class json_events;  // the file's event array, written event by event (trace.cpp)

class trace {
public:
    // Spans beyond `max_spans` are counted, not kept: a trace must stay small enough to open
    // (900,000 spans made 107 MB).
    static constexpr std::size_t default_max_spans = 2'000'000;
    explicit trace(std::size_t max_spans = default_max_spans) : max_spans_(max_spans) {}
    std::size_t max_spans() const { return max_spans_; }

    // A spans message from `rank` (validated), received `received` seconds after the run
    // started: its entries are kept as they came (parsed only when the file is written, so
    // tracing costs the hot path a copy), and it refines that rank's clock offset.
    void spans_from(int rank, const wire::spans_view& message, double received);
    // A span of rank 0's own (seconds since the run started).
    void own_span(const wire::span_report& s);
    // A lent task `id`, submitted by task `parent` (0: none known) on `origin`.
    void lent(std::uint64_t id, std::uint64_t parent, int origin);
    // Task `to` takes the result of task `from` (a task graph's edge): an arrow from the end of
    // the one to the start of the other.
    void edge(std::uint64_t from, std::uint64_t to);
    // `rank` died holding task `id`: a span of it there is a run whose result never came back
    // (the task runs again elsewhere, with a span of its own).
    void result_lost(int rank, std::uint64_t id);
    // Something that happened to one rank, or to the pool (`rank` pool), at seconds since the
    // start.
    static constexpr int pool = -1;
    void instant(double at, int rank, std::string name, std::string detail = {});
    void name_rank(int rank, std::string label);

    std::size_t spans() const { return kept_; }
    std::size_t spans_dropped() const { return dropped_; }

    // Writes the file; `rows` become the counter tracks and the scaling decisions. Throws
    // tide::error when it cannot be written.
    void write(const std::string& path, const std::vector<timeline_row>& rows,
               const std::function<std::string(std::uint64_t)>& task_name) const;

private:
    struct task_span {
        std::int64_t start, end;  // nanoseconds on rank 0's clock
        std::uint64_t name_hash;
        std::uint64_t id;
        int rank;
    };
    // Room for `count` more spans (those beyond max_spans are counted as dropped).
    std::size_t room(std::size_t count);
    struct event {
        double at;
        int rank;
        std::string name, detail;
    };
    struct lent_link {
        std::uint64_t parent;
        int origin;
    };
    double offset_of(int rank) const;
    // The parts of the file: the tracks' names, the tasks' spans (with the arrows from a lent
    // task's parent), and the instants of scaling and loss.
    void write_tracks(json_events& out) const;
    std::vector<task_span> spans_in_order() const;
    void write_spans(json_events& out, std::vector<task_span>& spans,
                     const std::function<std::string(std::uint64_t)>& task_name) const;
    void write_instants(json_events& out) const;

    std::size_t max_spans_;
    std::map<int, wire::bytes> entries_;  // per rank, spans in the wire's entry layout
    std::size_t kept_ = 0;
    std::size_t dropped_ = 0;
    std::unordered_map<int, double> offsets_;  // rank -> its clock minus rank 0's, at most
    std::unordered_map<std::uint64_t, lent_link> lent_;
    std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> inputs_;  // task -> inputs
    std::size_t edges_ = 0;
    std::set<std::pair<int, std::uint64_t>> results_lost_;
    std::vector<event> events_;
    std::map<int, std::string> ranks_;
};

}  // namespace tide::detail
