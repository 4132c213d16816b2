#pragma once
// Rank 0's live view of the run on stderr. On a terminal: one line redrawn in place a few
// times a second. Otherwise (a batch job's output file): a status line every
// --tide-status-interval seconds while something changes, so `tail -f` tells the story.
// --tide-quiet turns both off.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tide::detail {

struct progress_facts {
    double elapsed = 0;  // seconds since the run started
    std::uint64_t submitted = 0, done = 0, failed = 0;
    std::size_t busy = 0, idle = 0, parked = 0, starting = 0;
    double backlog_seconds = 0;
};

class progress {
public:
    using clock = std::chrono::steady_clock;
    // `interval`: seconds between status lines (a terminal's line is redrawn every 0.25 s).
    progress(double interval, bool terminal, std::FILE* out);
    // Cheap enough to ask on every pump.
    bool due(clock::time_point now) const { return now >= next_; }
    void update(clock::time_point now, const progress_facts& f);
    // Clears a terminal's line, so what follows starts on a clean one.
    void finish();
    // The line as printed (without the leading "\r" or the trailing newline).
    static std::string format(const progress_facts& f, double rate);

private:
    bool changed(const progress_facts& f) const;
    clock::duration period_;
    bool terminal_;
    std::FILE* out_;
    clock::time_point next_{};
    bool printed_ = false;
    progress_facts last_;  // as last printed
    double rate_ = 0;      // tasks finished per second, smoothed
    double rate_at_ = -1;  // elapsed at the last rate sample
    std::uint64_t rate_done_ = 0;
};

}  // namespace tide::detail
