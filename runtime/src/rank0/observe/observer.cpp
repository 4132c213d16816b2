#include "rank0/observe/observer.hpp"

#include <unistd.h>

#include <fstream>
#include <utility>

#include "platform/log.hpp"
#include "tide/detail/registry.hpp"
#include "tide/error.hpp"

namespace tide::detail {

namespace {
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

run_observer::run_observer(const config& cfg, const std::string& host, bool by_mpirun,
                           clock::time_point started)
    : cfg_(cfg), started_(started) {
    check_writable(cfg.timeline_path, "--tide-timeline");
    check_writable(cfg.stats_path, "--tide-stats");
    check_writable(cfg.trace_path, "--tide-trace");
    if (!cfg.quiet) {
        const bool terminal = on_a_terminal(by_mpirun);
        progress_ = std::make_unique<progress>(cfg.status_interval, terminal, stderr);
        if (terminal) clear_progress_line_in_logs();
    }
    if (!cfg.trace_path.empty()) {
        trace_ = std::make_unique<trace>();
        trace_->name_rank(0, "rank 0 (" + host + ")");
    }
}

double run_observer::seconds_since_start() const {
    return std::chrono::duration<double>(clock::now() - started_).count();
}

void run_observer::event(int rank, std::string name, std::string detail) {
    if (trace_) trace_->instant(seconds_since_start(), rank, std::move(name), std::move(detail));
}

void run_observer::pool_row(timeline_row row, const std::string& decision) {
    row.event = std::exchange(pending_, {}) + decision;
    last_row_ = row;
    if (!cfg_.timeline_path.empty() || trace_) history_.record(std::move(row));
}

void run_observer::spans_from(int rank, const wire::spans_view& message) {
    if (trace_) trace_->spans_from(rank, message, seconds_since_start());
}

void run_observer::own_span(const wire::span_report& span) {
    if (trace_) trace_->own_span(span);
}

void run_observer::lent(std::uint64_t id, std::uint64_t parent, int origin) {
    if (trace_) trace_->lent(id, parent, origin);
}

void run_observer::edge(std::uint64_t from, std::uint64_t to) {
    if (trace_) trace_->edge(from, to);
}

void run_observer::result_lost(int rank, std::uint64_t id) {
    if (trace_) trace_->result_lost(rank, id);
}

void run_observer::update_progress(clock::time_point now, progress_facts f) {
    if (!progress_due(now)) return;
    f.busy = last_row_.busy;
    f.idle = last_row_.idle;
    f.parked = last_row_.parked;
    f.starting = last_row_.starting;
    f.backlog_seconds = last_row_.backlog_seconds;
    progress_->update(now, f);
}

void run_observer::end_progress() {
    if (progress_) progress_->finish();
}

void run_observer::write_files(const worker_pool& workers) {
    const auto attempt = [](auto&& write) {
        try {
            write();
        } catch (const std::exception& e) {
            log().error("{}", e.what());
        }
    };
    if (!cfg_.timeline_path.empty())
        attempt([&] {
            history_.write(cfg_.timeline_path);
            log().info("timeline: {} rows in {}", history_.rows().size(), cfg_.timeline_path);
        });
    if (trace_)
        attempt([&] {
            for (const auto& w : workers)
                if (w.first_joined)
                    trace_->name_rank(w.rank, "rank " + std::to_string(w.rank) + " (" + w.host +
                                                  (w.spawned ? ", spawned)" : ")"));
            trace_->write(cfg_.trace_path, history_.rows(), [](std::uint64_t name) {
                const task_entry* e = registry::instance().by_hash(name);
                return e ? e->name : std::string("unknown task");
            });
            if (trace_->spans_dropped() > 0)
                log().warn("trace: {} task spans beyond the first {} were left out of {}",
                           trace_->spans_dropped(), trace_->max_spans(), cfg_.trace_path);
            log().info("trace: {} task spans in {}", trace_->spans(), cfg_.trace_path);
        });
}

}  // namespace tide::detail
