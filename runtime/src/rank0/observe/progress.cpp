#include "rank0/observe/progress.hpp"

#include <fmt/format.h>
#include <cmath>

namespace tide::detail {

namespace {
constexpr double terminal_redraw_seconds = 0.25;
// The rate shown is smoothed over about this many seconds: steady enough to read, recent
// enough that an ETA follows a change of pace.
constexpr double rate_window_seconds = 5.0;

std::string duration_text(double s) {
    if (s < 60) return fmt::format("{:.0f} s", s);
    if (s < 3600) return fmt::format("{:.0f} min {:02.0f} s", std::floor(s / 60), std::fmod(s, 60));
    return fmt::format("{:.0f} h {:02.0f} min", std::floor(s / 3600), std::fmod(s, 3600) / 60);
}
}  // namespace

progress::progress(double interval, bool terminal, std::FILE* out)
    : period_(std::chrono::duration_cast<clock::duration>(
          std::chrono::duration<double>(terminal ? terminal_redraw_seconds : interval))),
      terminal_(terminal),
      out_(out) {}

std::string progress::format(const progress_facts& f, double rate) {
    const auto finished = f.done + f.failed;
    std::string line =
        fmt::format("[tide {:.1f} s] tasks {}/{} done", f.elapsed, finished, f.submitted);
    if (f.failed > 0) line += fmt::format(" ({} failed)", f.failed);
    line += fmt::format(", {:.1f}/s", rate);
    const auto left = f.submitted > finished ? f.submitted - finished : 0;
    if (left > 0 && rate > 0) line += ", ETA " + duration_text(static_cast<double>(left) / rate);
    line += fmt::format("; workers {} busy, {} idle, {} parked, {} starting; backlog {:.1f} s",
                        f.busy, f.idle, f.parked, f.starting, f.backlog_seconds);
    return line;
}

bool progress::changed(const progress_facts& f) const {
    return !printed_ || f.submitted != last_.submitted || f.done != last_.done ||
           f.failed != last_.failed || f.busy != last_.busy || f.idle != last_.idle ||
           f.parked != last_.parked || f.starting != last_.starting;
}

void progress::update(clock::time_point now, const progress_facts& f) {
    // Nothing at all before the first task; the first line comes as soon as there is one.
    if (f.submitted == 0) return;
    next_ = now + period_;
    const auto finished = f.done + f.failed;
    if (rate_at_ < 0) {
        rate_at_ = f.elapsed;
        rate_done_ = finished;
    } else if (f.elapsed > rate_at_) {
        const double dt = f.elapsed - rate_at_;
        const double sample = static_cast<double>(finished - rate_done_) / dt;
        const double weight = std::min(1.0, dt / rate_window_seconds);
        rate_ = rate_ == 0 ? sample : rate_ + weight * (sample - rate_);
        rate_at_ = f.elapsed;
        rate_done_ = finished;
    }
    // Nothing new (an idle pool between bursts): no line, so an output file does not fill up.
    // A terminal's line is redrawn anyway: its clock keeps going.
    if (!terminal_ && !changed(f)) return;
    const auto line = format(f, rate_);
    if (terminal_) {
        std::fflush(stdout);  // the program's own output first, then the line after it
        std::fprintf(out_, "\r\033[K%s", line.c_str());
    } else {
        std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
    last_ = f;
    printed_ = true;
}

void progress::finish() {
    if (terminal_ && printed_) {
        std::fprintf(out_, "\r\033[K");
        std::fflush(out_);
    }
}

}  // namespace tide::detail
