#include "rank0/observe/trace.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <tuple>

#include "tide/error.hpp"

namespace tide::detail {

using nlohmann::json;

namespace {
// Chrome trace events count microseconds; spans are placed in whole nanoseconds first.
double micros(double seconds) { return seconds * 1e6; }
std::int64_t nanos(double seconds) { return std::llround(seconds * 1e9); }
double micros_of(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }

// Two processes in the viewer: rank 0's view of the pool (counters, decisions), and the ranks
// that run tasks, one track (thread) each, rank 0 too when it runs tasks itself.
constexpr int pool_pid = 0;
constexpr int ranks_pid = 1;

// The kind of a scaling decision, for the event's name: "grow" or "shrink" (the policy's
// reason starts so, after a spawn's outcome or a loss if the row carries one), else the first
// words ("spawn failed", "worker 3 lost").
std::string decision_kind(const std::string& reason) {
    for (const std::string kind : {"grow", "shrink"})
        if (reason.rfind(kind + ":", 0) == 0 || reason.find("; " + kind + ":") != std::string::npos)
            return kind;
    return reason.substr(0, reason.find_first_of(":;"));
}
}  // namespace

std::size_t trace::room(std::size_t count) {
    const std::size_t fits = std::min(count, max_spans_ - kept_);
    kept_ += fits;
    dropped_ += count - fits;
    return fits;
}

void trace::spans_from(int rank, const wire::spans_view& message, double received) {
    // A clock reading that is not a number (a confused worker) must not poison the offset.
    const double offset = received - message.sent_at;
    if (std::isfinite(offset)) {
        auto [it, fresh] = offsets_.emplace(rank, offset);
        if (!fresh) it->second = std::min(it->second, offset);
    }
    const auto n = room(message.count);
    auto& kept = entries_[rank];
    kept.insert(kept.end(), message.entries.begin(),
                message.entries.begin() + static_cast<std::ptrdiff_t>(n * wire::span_entry_size));
}

void trace::own_span(const wire::span_report& s) {
    if (room(1) == 1) wire::write_span_entry(entries_[0], s);
}

double trace::offset_of(int rank) const {
    const auto it = offsets_.find(rank);
    return it == offsets_.end() ? 0.0 : it->second;
}

void trace::lent(std::uint64_t id, std::uint64_t parent, int origin) {
    if (lent_.size() < max_spans_) lent_[id] = lent_link{parent, origin};
}

void trace::edge(std::uint64_t from, std::uint64_t to) {
    if (edges_ >= max_spans_) return;
    ++edges_;
    inputs_[to].push_back(from);
}

void trace::result_lost(int rank, std::uint64_t id) {
    if (results_lost_.size() < max_spans_) results_lost_.emplace(rank, id);
}

void trace::instant(double at, int rank, std::string name, std::string detail) {
    events_.push_back({at, rank, std::move(name), std::move(detail)});
}

void trace::name_rank(int rank, std::string label) { ranks_[rank] = std::move(label); }

// The "traceEvents" array, event by event, never the whole document in memory: a trace of
// millions of spans would take gigabytes as one JSON value. Invalid UTF-8 in a name or a
// reason is replaced.
class json_events {
public:
    explicit json_events(std::ostream& out) : out_(out) { out_ << "{\"traceEvents\": [\n"; }
    void emit(const json& e) {
        out_ << (first_ ? "" : ",\n") << e.dump(-1, ' ', false, json::error_handler_t::replace);
        first_ = false;
    }

private:
    std::ostream& out_;
    bool first_ = true;
};

namespace {
// A flow arrow (numbered: a task run twice has two) from a point of one rank's track to one
// of another's, in nanoseconds on rank 0's clock.
struct track_point {
    int rank;
    std::int64_t at;
};
void emit_arrow(json_events& out, std::uint64_t id, const char* name, const char* category,
                const json& args, track_point from, track_point to) {
    out.emit({{"ph", "s"},
              {"pid", ranks_pid},
              {"tid", from.rank},
              {"ts", micros_of(from.at)},
              {"id", id},
              {"name", name},
              {"cat", category},
              {"args", args}});
    out.emit({{"ph", "f"},
              {"bp", "e"},
              {"pid", ranks_pid},
              {"tid", to.rank},
              {"ts", micros_of(to.at)},
              {"id", id},
              {"name", name},
              {"cat", category},
              {"args", args}});
}

// The pool's counters (workers by state, queued tasks, backlog) and its scaling decisions.
void write_pool_rows(json_events& out, const std::vector<timeline_row>& rows) {
    for (const auto& r : rows) {
        const double ts = micros(r.seconds);
        out.emit({{"ph", "C"},
                  {"pid", pool_pid},
                  {"ts", ts},
                  {"name", "workers"},
                  {"args",
                   {{"busy", r.busy},
                    {"idle", r.idle},
                    {"parked", r.parked},
                    {"starting", r.starting}}}});
        out.emit({{"ph", "C"},
                  {"pid", pool_pid},
                  {"ts", ts},
                  {"name", "queued tasks"},
                  {"args", {{"queued", r.queued}}}});
        out.emit({{"ph", "C"},
                  {"pid", pool_pid},
                  {"ts", ts},
                  {"name", "backlog seconds"},
                  {"args", {{"backlog", r.backlog_seconds}}}});
        if (!r.event.empty())
            out.emit({{"ph", "i"},
                      {"s", "p"},
                      {"pid", pool_pid},
                      {"tid", 0},
                      {"ts", ts},
                      {"name", decision_kind(r.event)},
                      {"cat", "decision"},
                      {"args", {{"reason", r.event}}}});
    }
}
}  // namespace

void trace::write(const std::string& path, const std::vector<timeline_row>& rows,
                  const std::function<std::string(std::uint64_t)>& task_name) const {
    std::ofstream file(path);
    if (!file) throw error("tide: cannot write the trace to '" + path + "'");
    json_events out(file);
    write_tracks(out);
    auto spans = spans_in_order();
    write_spans(out, spans, task_name);
    write_instants(out);
    write_pool_rows(out, rows);
    file << "\n],\n\"displayTimeUnit\": \"ms\",\n\"otherData\": "
         << json{{"producer", "tide"}, {"spans", kept_}, {"spans_dropped", dropped_}}.dump()
         << "}\n";
    if (!file) throw error("tide: writing the trace to '" + path + "' failed");
}

void trace::write_tracks(json_events& out) const {
    out.emit({{"ph", "M"},
              {"pid", pool_pid},
              {"name", "process_name"},
              {"args", {{"name", "tide pool (rank 0)"}}}});
    out.emit({{"ph", "M"},
              {"pid", ranks_pid},
              {"name", "process_name"},
              {"args", {{"name", "tide ranks"}}}});
    for (const auto& [rank, label] : ranks_) {
        out.emit({{"ph", "M"},
                  {"pid", ranks_pid},
                  {"tid", rank},
                  {"name", "thread_name"},
                  {"args", {{"name", label}}}});
        out.emit({{"ph", "M"},
                  {"pid", ranks_pid},
                  {"tid", rank},
                  {"name", "thread_sort_index"},
                  {"args", {{"sort_index", rank}}}});
    }
}

// Spans on rank 0's clock, per track in start order, in whole nanoseconds.
std::vector<trace::task_span> trace::spans_in_order() const {
    std::vector<task_span> ordered;
    ordered.reserve(kept_);
    for (const auto& [rank, entries] : entries_) {
        const double offset = offset_of(rank);
        for (std::size_t i = 0; i < entries.size() / wire::span_entry_size; ++i) {
            const auto s = wire::span_at(entries, i);
            // Spans are taken as workers report them; one a viewer would reject is left out.
            if (!std::isfinite(s.start) || !std::isfinite(s.seconds) || s.seconds < 0) continue;
            const auto start = nanos(s.start + offset);
            ordered.push_back({start, start + nanos(s.seconds), s.name, s.id, rank});
        }
    }
    // By track, then start, the longer first: a span that starts with another encloses it.
    std::stable_sort(ordered.begin(), ordered.end(), [](const task_span& a, const task_span& b) {
        return std::tie(a.rank, a.start, b.end) < std::tie(b.rank, b.start, a.end);
    });
    return ordered;
}

// Tasks on one track either follow each other or nest (a waiting task runs others inside
// itself), and viewers reject anything else; the loop keeps them so in two ways.
void trace::write_spans(json_events& out, std::vector<task_span>& spans,
                        const std::function<std::string(std::uint64_t)>& task_name) const {
    std::vector<std::int64_t> open_ends;  // ends of the spans enclosing the current one
    std::unordered_map<std::uint64_t, std::string> names;  // task_name once per name
    int track = -1;
    std::uint64_t flows = 0;
    for (auto& s : spans) {
        if (s.rank != track) {
            open_ends.clear();
            track = s.rank;
        }
        for (;;) {
            while (!open_ends.empty() && open_ends.back() <= s.start) {
                // A task that starts as the one before ends (a worker reads the clock once
                // between them) starts a nanosecond later, so a viewer rounding ts and dur on
                // its own cannot make them overlap.
                if (open_ends.back() == s.start && s.end > s.start) ++s.start;
                open_ends.pop_back();
            }
            if (open_ends.empty() || s.end <= open_ends.back()) break;
            // Overlapping the end of the span before (a rounding, or a confused worker):
            // it follows that span, its duration kept.
            const auto length = s.end - s.start;
            s.start = open_ends.back() + 1;
            s.end = s.start + length;
        }
        open_ends.push_back(s.end);
        json args = {{"id", s.id}, {"parent", 0}};
        const auto origin = lent_.find(s.id);
        if (origin != lent_.end()) {
            args["parent"] = origin->second.parent;
            args["lent_by_rank"] = origin->second.origin;
        }
        if (results_lost_.count({s.rank, s.id})) args["result_lost"] = true;
        out.emit({{"ph", "X"},
                  {"pid", ranks_pid},
                  {"tid", s.rank},
                  {"ts", micros_of(s.start)},
                  {"dur", micros_of(s.end - s.start)},
                  {"name", names.try_emplace(s.name_hash, task_name(s.name_hash)).first->second},
                  {"cat", "task"},
                  {"args", std::move(args)}});
        if (origin != lent_.end() && origin->second.parent != 0) {
            // An arrow from the parent's track (its task waits there meanwhile) to this span;
            // a task run twice (its first worker died) gets two, so arrows are numbered.
            emit_arrow(out, ++flows, "lent", "steal", {{"task", s.id}},
                       {origin->second.origin, s.start}, {s.rank, s.start});
        }
    }
    if (inputs_.empty()) return;
    // A graph's edges, once every span is where it is drawn: from where each task ended (one
    // of its runs, for a task run twice) to where each task that took its result started.
    std::unordered_map<std::uint64_t, const task_span*> ends;
    for (const auto& s : spans) ends[s.id] = &s;
    for (const auto& s : spans) {
        const auto in = inputs_.find(s.id);
        if (in == inputs_.end()) continue;
        for (const auto from : in->second) {
            const auto producer = ends.find(from);
            if (producer == ends.end()) continue;  // its span was not kept (or it was resumed)
            const task_span& p = *producer->second;
            emit_arrow(out, ++flows, "input", "graph", {{"from", from}, {"to", s.id}},
                       {p.rank, p.end}, {s.rank, s.start});
        }
    }
}

void trace::write_instants(json_events& out) const {
    for (const auto& e : events_) {
        json ev = {{"ph", "i"},
                   {"s", "t"},
                   {"pid", e.rank == pool ? pool_pid : ranks_pid},
                   {"tid", e.rank == pool ? 0 : e.rank},
                   {"ts", micros(e.at)},
                   {"name", e.name},
                   {"cat", "scaling"}};
        if (!e.detail.empty()) ev["args"] = {{"detail", e.detail}};
        out.emit(ev);
    }
}

}  // namespace tide::detail
