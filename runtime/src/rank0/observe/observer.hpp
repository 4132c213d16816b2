#pragma once
// What rank 0 shows of the run as it goes and leaves behind: the progress line or status lines
// (unless --tide-quiet), the pool's timeline (--tide-timeline) and the trace (--tide-trace).
// The engine tells it what happens; it owns those outputs and decides what each one keeps.
// (The run's statistics are counted by the engine, which holds what they count.)

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "platform/config.hpp"
#include "protocol/wire.hpp"
#include "rank0/observe/progress.hpp"
#include "rank0/observe/timeline.hpp"
#include "rank0/observe/trace.hpp"
#include "rank0/worker_pool.hpp"

namespace tide::detail {

class run_observer {
public:
    using clock = std::chrono::steady_clock;

    // Says now, not after a long run, if an output file cannot be written.
    run_observer(const config& cfg, const std::string& host, bool by_mpirun,
                 clock::time_point started);

    // Workers are told to time their tasks and send spans.
    bool tracing() const { return trace_ != nullptr; }

    // Something that happened to one rank, or to the pool (rank trace::pool).
    void event(int rank, std::string name, std::string detail = {});
    // What happened between scaling ticks (a spawn's outcome, a loss), for the next row.
    void note(const std::string& what) { pending_ += what + "; "; }
    // The pool at a scaling tick, and the policy's decision.
    void pool_row(timeline_row row, const std::string& decision);
    // Spans of tasks: as a worker reports them, run by rank 0 itself, lent (linking a thief's
    // task to its parent), or run in vain on a worker that was lost.
    void spans_from(int rank, const wire::spans_view& message);
    void own_span(const wire::span_report& span);
    void lent(std::uint64_t id, std::uint64_t parent, int origin);
    // Task `to` of a graph takes the result of task `from`.
    void edge(std::uint64_t from, std::uint64_t to);
    void result_lost(int rank, std::uint64_t id);

    // Whether the progress line is due (asked on every pump: inline, and no facts gathered).
    bool progress_due(clock::time_point now) const { return progress_ && progress_->due(now); }
    // The progress line; `f` without the pool's counts (those of the last row).
    void update_progress(clock::time_point now, progress_facts f);
    // The run is over: the progress line closes (before the summary is printed), then the
    // timeline and the trace are written.
    void end_progress();
    void write_files(const worker_pool& workers);

private:
    double seconds_since_start() const;

    const config& cfg_;
    clock::time_point started_;
    timeline history_;
    std::string pending_;  // notes for the next row's event
    timeline_row last_row_;
    std::unique_ptr<trace> trace_;
    std::unique_ptr<progress> progress_;
};

}  // namespace tide::detail
