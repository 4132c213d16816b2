#pragma once
// The run's timeline, kept by rank 0 when asked for (--tide-timeline, --tide-trace): what the
// pool looked like, up to ten times a second while the workers' states or the queue move and
// once a second otherwise (workers busy / idle / parked /
// starting, queued tasks, estimated backlog), and each scaling event with its reason. Written at
// the end as CSV, or as JSON when the file name ends in .json (--tide-timeline=FILE).

#include <cstddef>
#include <string>
#include <vector>

namespace tide::detail {

struct timeline_row {
    double seconds = 0;  // since the run started
    std::size_t busy = 0, idle = 0, parked = 0, starting = 0;
    std::size_t queued = 0;
    double backlog_seconds = 0;
    std::string event;  // a scaling decision and its reason; empty for a plain sample

    bool same_workers(const timeline_row& o) const {
        return busy == o.busy && idle == o.idle && parked == o.parked && starting == o.starting;
    }
};

class timeline {
public:
    // Keeps a row when the pool changed since the last one, or it carries an event.
    void record(timeline_row row);
    const std::vector<timeline_row>& rows() const { return rows_; }
    // Throws tide::error when the file cannot be written.
    void write(const std::string& path) const;

private:
    std::vector<timeline_row> rows_;
};

}  // namespace tide::detail
