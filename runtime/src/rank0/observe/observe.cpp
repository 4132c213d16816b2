// What rank 0 shows of the run: its statistics (driver::stats(), the summary table at the end,
// --tide-stats), the live progress or status lines, the timeline's rows and the trace
// (--tide-trace).

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "platform/log.hpp"
#include "protocol/messaging.hpp"
#include "rank0/engine_state.hpp"
#include "tide/detail/registry.hpp"

namespace tide::detail {

using clock = std::chrono::steady_clock;

namespace {
// Says at the start, not after a long run, that an output file cannot be written.
void check_writable(const std::string& path, const char* flag) {
    if (!path.empty() && !std::ofstream(path))
        log().error("tide: cannot write '{}' ({}); the run goes on", path, flag);
}
// Whether the user watches a terminal: stdout and stderr are one. Not under mpirun, which
// gives its ranks a pseudo-terminal for stdout even when its own output goes to a file (a
// batch job's): there a status line every few seconds is the safe choice.
bool on_a_terminal(bool by_mpirun) {
    return !by_mpirun && isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1;
}
}  // namespace

void engine_state::start_observing(bool by_mpirun) {
    check_writable(cfg.timeline_path, "--tide-timeline");
    check_writable(cfg.stats_path, "--tide-stats");
    check_writable(cfg.trace_path, "--tide-trace");
    if (!cfg.quiet) {
        const bool terminal = on_a_terminal(by_mpirun);
        progress_line = std::make_unique<progress>(cfg.status_interval, terminal, stderr);
        if (terminal) clear_progress_line_in_logs();
    }
    if (!cfg.trace_path.empty()) {
        tracing = std::make_unique<trace>();
        tracing->name_rank(0, "rank 0 (" + host + ")");
    }
    for (std::size_t i = 0; i < workers.size(); ++i) enter_pool(i, started);
}

void engine_state::enter_pool(std::size_t i, clock::time_point now) {
    worker_info& w = workers[i];
    if (w.first_joined) return;
    w.first_joined = now;
    // Before any task batch, so that every task it receives is timed.
    if (tracing) send_message(net, w.rank, wire::tracing{});
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

void engine_state::record_row(timeline_row row) {
    last_row = row;
    if (!cfg.timeline_path.empty() || tracing) history.record(std::move(row));
}

void engine_state::trace_event(int rank, std::string name, std::string detail) {
    if (tracing)
        tracing->instant(seconds_of(clock::now() - started), rank, std::move(name),
                         std::move(detail));
}

void engine_state::accept_spans(std::size_t w, std::span<const std::byte> body) {
    const auto message = wire::decode_spans(body);
    // Not asked for (a confused worker): nothing to keep. Spans are taken as the worker reports
    // them: they only ever reach the trace.
    if (tracing) tracing->spans_from(workers[w].rank, message, seconds_of(clock::now() - started));
}

run_stats engine_state::stats() {
    const auto now = clock::now();
    run_stats s;
    s.submitted = counters.submitted;
    s.ok = counters.completed;
    s.failed = counters.failed;
    s.retried = counters.driver_tasks_rerun;
    // The driver's tasks not finished (lent tasks in flight are not the driver's).
    s.outstanding = s.submitted - std::min(s.submitted, s.ok + s.failed);
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
        r.origin = w.spawned ? "spawned" : "launcher";
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
    s.workers_lost = counters.workers_lost;
    s.batches_lost = counters.batches_lost;
    s.protocol_errors = counters.protocol_errors;
    return s;
}

void engine_state::report_progress() {
    if (!progress_line || !progress_line->due(last_pump)) return;
    progress_facts f;
    f.elapsed = seconds_of(last_pump - started);
    f.submitted = counters.submitted;
    f.done = counters.completed;
    f.failed = counters.failed;
    f.busy = last_row.busy;
    f.idle = last_row.idle;
    f.parked = last_row.parked;
    f.starting = last_row.starting;
    f.backlog_seconds = last_row.backlog_seconds;
    progress_line->update(last_pump, f);
}

void engine_state::report_end() {
    if (progress_line) progress_line->finish();
    const auto s = stats();
    // A run that submitted nothing (a --help, a program that found nothing to do) has nothing
    // to sum up.
    if (!cfg.quiet && s.submitted > 0) {
        std::fputs(to_table(s).c_str(), stderr);
        std::fflush(stderr);
    }
    const auto attempt = [](auto&& write) {
        try {
            write();
        } catch (const std::exception& e) {
            log().error("{}", e.what());
        }
    };
    if (!cfg.stats_path.empty())
        attempt([&] {
            std::ofstream out(cfg.stats_path);
            out << to_json(s) << '\n';
            if (!out) throw error("tide: cannot write the statistics to '" + cfg.stats_path + "'");
        });
    if (!cfg.timeline_path.empty())
        attempt([&] {
            history.write(cfg.timeline_path);
            log().info("timeline: {} rows in {}", history.rows().size(), cfg.timeline_path);
        });
    if (tracing)
        attempt([&] {
            for (const auto& w : workers)
                if (w.first_joined)
                    tracing->name_rank(w.rank, "rank " + std::to_string(w.rank) + " (" + w.host +
                                                   (w.spawned ? ", spawned)" : ")"));
            tracing->write(cfg.trace_path, history.rows(), [](std::uint64_t name) {
                const task_entry* e = registry::instance().by_hash(name);
                return e ? e->name : std::string("unknown task");
            });
            if (tracing->spans_dropped() > 0)
                log().warn("trace: {} task spans beyond the first {} were left out of {}",
                           tracing->spans_dropped(), tracing->max_spans(), cfg.trace_path);
            log().info("trace: {} task spans in {}", tracing->spans(), cfg.trace_path);
        });
}

}  // namespace tide::detail
