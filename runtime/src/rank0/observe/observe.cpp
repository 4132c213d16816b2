// What rank 0 shows of the run: its statistics (driver::stats(), the summary table at the end,
// --tide-stats), the live progress or status lines, the timeline's rows and the trace
// (--tide-trace).

#include <cstdio>
#include <fstream>

#include "platform/log.hpp"
#include "protocol/messaging.hpp"
#include "rank0/engine_state.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

void engine_state::start_observing() {
    for (std::size_t i = 0; i < workers.size(); ++i) enter_pool(i, started);
}

void engine_state::enter_pool(std::size_t i, clock::time_point now) {
    worker_info& w = workers[i];
    if (w.first_joined) return;
    w.first_joined = now;
    // Before any task batch, so that every task it receives is timed.
    if (observer.tracing()) send_message(net, w.rank, wire::tracing{});
}

void engine_state::left_pool(std::size_t i, clock::time_point now) {
    worker_info& w = workers[i];
    if (w.left_at) return;
    w.left_at = now;
    if (w.parked_since) w.parked_seconds += seconds_of(now - *w.parked_since);
}

void engine_state::note_sent(worker_info& w) {
    // A worker that joined (spawned, or woken) after the burst began gets its first task.
    if (burst_started && !burst_answered && w.joined >= *burst_started) {
        burst_answered = true;
        counters.burst_to_new_worker.push_back(seconds_of(clock::now() - *burst_started));
    }
}

void engine_state::accept_spans(std::size_t w, std::span<const std::byte> body) {
    const auto message = wire::decode_spans(body);
    // Not asked for (a confused worker): nothing to keep. Spans are taken as the worker reports
    // them: they only ever reach the trace.
    observer.spans_from(workers[w].rank, message);
}

run_stats engine_state::stats() {
    const auto now = clock::now();
    run_stats s;
    s.submitted = counters.submitted;
    s.resumed = counters.resumed;
    s.graph_sent_ahead = counters.sent_ahead;
    s.graph_returned = counters.ahead_returned;
    s.graph_forwarded = counters.inputs_forwarded;
    s.results_kept = counters.results_kept;
    s.results_kept_bytes = counters.kept_bytes;
    s.results_fetched = counters.results_fetched;
    s.results_fetched_bytes = counters.fetched_bytes;
    s.results_released = counters.results_released;
    s.results_remade = counters.results_remade;
    s.ok = counters.completed;
    s.failed = counters.failed;
    s.retried = counters.driver_tasks_rerun;
    // The driver's tasks not finished (lent tasks in flight are not the driver's).
    s.outstanding = s.submitted - std::min(s.submitted, s.resumed + s.ok + s.failed);
    if (journal) {
        s.journal_path = cfg.journal_path;
        s.journal_recorded = journal->appended();
        s.journal_bytes = journal->size_bytes();
    }
    s.elapsed_seconds = seconds_of(now - started);
    if (first_submit) {
        const auto end = s.outstanding > 0 || !last_finish ? now : *last_finish;
        s.makespan_seconds = seconds_of(end - *first_submit);
    }
    if (s.makespan_seconds > 0)
        s.tasks_per_second = static_cast<double>(s.ok + s.failed) / s.makespan_seconds;
    if (counters.local_executed > 0) {
        worker_stats r;
        r.rank = 0;
        r.host = host;
        r.origin = "rank 0";
        r.state = "active";
        r.tasks = counters.local_tasks;
        r.executed = counters.local_executed;
        r.busy_seconds = counters.local_busy_seconds;
        r.seconds_in_pool = s.elapsed_seconds;
        r.busy_fraction = r.busy_seconds / std::max(r.seconds_in_pool, 1e-9);
        s.workers.push_back(std::move(r));
    }
    for (const auto& w : workers) {
        if (!w.first_joined || w.rejected) continue;  // never joined: a failed spawn
        worker_stats r;
        r.rank = w.rank;
        r.host = w.host;
        r.origin = w.satellite ? "satellite" : w.spawned ? "spawned" : "launcher";
        r.state = w.state_name();
        r.tasks = w.results;
        // The goodbye's totals are final; until then, what the statuses said.
        const bool said_goodbye =
            w.phase == sched::worker_phase::ended || w.phase == sched::worker_phase::retired;
        r.executed = said_goodbye ? w.farewell.executed : w.executed;
        r.busy_seconds = said_goodbye ? w.farewell.busy_seconds : w.busy_seconds;
        const auto until = w.left_at ? *w.left_at : now;
        r.seconds_in_pool = seconds_of(until - *w.first_joined);
        r.parked_seconds = w.parked_seconds;
        if (w.parked_since && !w.left_at) r.parked_seconds += seconds_of(now - *w.parked_since);
        r.busy_fraction = r.busy_seconds / std::max(r.seconds_in_pool, 1e-9);
        s.workers.push_back(std::move(r));
    }
    const auto load = snapshot();
    s.stealing = load.stealing;
    s.scaling = load.scaling;
    s.bursts = counters.bursts;
    s.bursts_grown = counters.burst_to_new_worker.size();
    s.burst_to_new_worker_median_seconds = median(counters.burst_to_new_worker);
    if (!counters.burst_to_new_worker.empty())
        s.burst_to_new_worker_max_seconds = *std::max_element(counters.burst_to_new_worker.begin(),
                                                              counters.burst_to_new_worker.end());
    s.satellites_submitted = counters.satellites_submitted;
    s.satellites_joined = counters.satellites_joined;
    s.satellites_failed = counters.satellites_failed;
    s.satellite_wait_median_seconds = median(counters.satellite_waits);
    s.satellite_join_median_seconds = median(counters.satellite_joins);
    s.workers_lost = counters.workers_lost;
    s.batches_lost = counters.batches_lost;
    s.protocol_errors = counters.protocol_errors;
    return s;
}

void engine_state::report_progress() {
    if (!observer.progress_due(last_pump)) return;
    progress_facts f;
    f.elapsed = seconds_of(last_pump - started);
    f.submitted = counters.submitted;
    f.done = counters.completed + counters.resumed;
    f.failed = counters.failed;
    observer.update_progress(last_pump, f);
}

void engine_state::report_end() {
    observer.end_progress();
    const auto s = stats();
    // A run that submitted nothing (a --help, a program that found nothing to do) has nothing
    // to sum up.
    if (!cfg.quiet && s.submitted > 0) {
        std::fputs(to_table(s).c_str(), stderr);
        std::fflush(stderr);
    }
    if (!cfg.stats_path.empty()) {
        std::ofstream out(cfg.stats_path);
        out << to_json(s) << '\n';
        if (!out) log().error("tide: cannot write the statistics to '{}'", cfg.stats_path);
    }
    observer.write_files(workers);
}

}  // namespace tide::detail
