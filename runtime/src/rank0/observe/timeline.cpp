#include "rank0/observe/timeline.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "tide/error.hpp"

namespace tide::detail {

void timeline::record(timeline_row row) {
    // Every event; otherwise ten rows a second at most while the workers' states, the queue or
    // the backlog move, one a second while nothing does: a long run stays small (a busy day is
    // under a million rows), and the curves keep their shape.
    if (!rows_.empty() && row.event.empty()) {
        const timeline_row& last = rows_.back();
        const bool moved = !row.same_workers(last) || row.queued != last.queued ||
                           row.backlog_seconds != last.backlog_seconds;
        if (row.seconds - last.seconds < (moved ? 0.1 : 1.0)) return;
    }
    rows_.push_back(std::move(row));
}

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void timeline::write(const std::string& path) const {
    std::ofstream out(path);
    if (!out) throw error("tide: cannot write the timeline to '" + path + "'");
    if (ends_with(path, ".json")) {
        nlohmann::json rows = nlohmann::json::array();
        for (const auto& r : rows_)
            rows.push_back({{"seconds", r.seconds},
                            {"busy", r.busy},
                            {"idle", r.idle},
                            {"parked", r.parked},
                            {"starting", r.starting},
                            {"queued", r.queued},
                            {"backlog_seconds", r.backlog_seconds},
                            {"event", r.event}});
        out << nlohmann::json{{"timeline", rows}}.dump(1) << '\n';
    } else {
        out << "seconds,busy,idle,parked,starting,queued,backlog_seconds,event\n";
        out.precision(12);
        for (const auto& r : rows_) {
            // The event text has no double quotes of its own; quoting keeps its commas.
            out << r.seconds << ',' << r.busy << ',' << r.idle << ',' << r.parked << ','
                << r.starting << ',' << r.queued << ',' << r.backlog_seconds << ",\"" << r.event
                << "\"\n";
        }
    }
    if (!out) throw error("tide: writing the timeline to '" + path + "' failed");
}

}  // namespace tide::detail
