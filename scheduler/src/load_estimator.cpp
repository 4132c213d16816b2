#include "tide/scheduler/load_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tide::sched {

void ewma_stats::add(std::uint64_t count, double sum, double sum_of_squares, double alpha) {
    if (count == 0) return;
    const double n = static_cast<double>(count);
    const double batch_mean = sum / n;
    const double batch_variance = std::max(0.0, sum_of_squares / n - batch_mean * batch_mean);
    if (samples == 0) {
        mean = batch_mean;
        variance = batch_variance;
    } else {
        // Weight of n updates with factor alpha; for n = 1 this is Finch's update exactly.
        const double w = 1.0 - std::pow(1.0 - alpha, n);
        const double diff = batch_mean - mean;
        mean += w * diff;
        variance = (1.0 - w) * (variance + w * diff * diff) + w * batch_variance;
    }
    samples += count;
    latest = batch_mean;
}

load_estimator::name_entry& load_estimator::entry(std::uint64_t name) {
    for (auto& e : names_)
        if (e.name == name) return e;
    names_.push_back({name, {}, 0});
    return names_.back();
}

void load_estimator::record_durations(std::uint64_t name, std::uint64_t count, double sum,
                                      double sum_of_squares) {
    entry(name).stats.add(count, sum, sum_of_squares, alpha_);
}

void load_estimator::record_status(std::size_t worker, std::uint32_t queued, double busy,
                                   double span, std::uint64_t executed) {
    worker_estimate& w = workers_[worker];
    w.queued = queued;
    if (span > 0) {
        const double fraction = std::clamp(busy / span, 0.0, 1.0);
        w.busy_fraction += alpha_ * (fraction - w.busy_fraction);
    }
    if (executed > 0) {
        const double per_task = busy / static_cast<double>(executed);
        w.task_seconds =
            w.task_seconds == 0 ? per_task : w.task_seconds + alpha_ * (per_task - w.task_seconds);
    }
}

void load_estimator::queued_centrally(std::uint64_t name, std::int64_t delta) {
    entry(name).queued += delta;
}

const ewma_stats* load_estimator::duration_of(std::uint64_t name) const {
    for (const auto& e : names_)
        if (e.name == name) return &e.stats;
    return nullptr;
}

bool load_estimator::fits(std::uint64_t name, double seconds) const {
    const ewma_stats* d = duration_of(name);
    return !d || d->samples == 0 || d->mean <= seconds;
}

load_estimator::queued_work load_estimator::central_fitting(double seconds) const {
    const double fallback = overall_task_seconds();
    queued_work w;
    for (const auto& e : names_) {
        const bool fits = e.stats.samples == 0 || e.stats.mean <= seconds;  // as fits()
        if (e.queued <= 0 || !fits) continue;
        w.tasks += static_cast<std::size_t>(e.queued);
        w.seconds +=
            static_cast<double>(e.queued) * (e.stats.samples > 0 ? e.stats.mean : fallback);
    }
    return w;
}

double load_estimator::longest_queued_mean() const {
    double longest = 0;
    for (const auto& e : names_)
        if (e.queued > 0 && e.stats.samples > 0) longest = std::max(longest, e.stats.mean);
    return longest;
}

double load_estimator::overall_task_seconds() const {
    double weighted = 0, samples = 0;
    for (const auto& e : names_) {
        weighted += e.stats.mean * static_cast<double>(e.stats.samples);
        samples += static_cast<double>(e.stats.samples);
    }
    return samples > 0 ? weighted / samples : 0;
}

double load_estimator::central_backlog_seconds() const {
    return central_fitting(std::numeric_limits<double>::infinity()).seconds;
}

void load_estimator::refresh_backlog(worker_estimate& w) const {
    const double per_task = w.task_seconds > 0 ? w.task_seconds : overall_task_seconds();
    w.backlog_seconds = static_cast<double>(w.in_hand + w.queued) * per_task;
}

load_snapshot load_estimator::snapshot() const {
    load_snapshot s;
    s.workers = workers_;
    for (auto& w : s.workers) refresh_backlog(w);
    for (const auto& e : names_)
        s.central_queued += static_cast<std::size_t>(std::max<std::int64_t>(e.queued, 0));
    s.central_backlog_seconds = central_backlog_seconds();
    s.total_backlog_seconds = s.central_backlog_seconds;
    for (const auto& w : s.workers) s.total_backlog_seconds += w.backlog_seconds;
    return s;
}

std::optional<std::size_t> pick_victim(std::span<const worker_estimate> workers, std::size_t thief,
                                       const std::vector<bool>& excluded,
                                       std::span<const int> distance) {
    struct candidate {
        std::size_t index;
        double backlog;
        std::uint32_t stealable;
    };
    std::vector<candidate> candidates;
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const worker_estimate& w = workers[i];
        if (i == thief || w.hungry || (i < excluded.size() && excluded[i])) continue;
        // Anything at all: a worker in a long task may have children on its deque that it
        // has not reported yet (it answers a steal with nothing if not, and counts as dry).
        const std::uint32_t stealable = w.queued + w.in_hand;
        if (stealable == 0) continue;
        candidates.push_back(
            {i, static_cast<double>(stealable) * std::max(w.task_seconds, 0.0), stealable});
    }
    if (candidates.empty()) return std::nullopt;
    // Backlog first; without duration estimates yet, the most stealable tasks.
    const auto more = [](const candidate& a, const candidate& b) {
        return a.backlog != b.backlog ? a.backlog > b.backlog : a.stealable > b.stealable;
    };
    const candidate best = *std::min_element(candidates.begin(), candidates.end(), more);
    const auto close = [&](const candidate& c) {
        return best.backlog > 0 ? c.backlog >= close_share * best.backlog
                                : c.stealable >= close_share * best.stealable;
    };
    const auto far = [&](const candidate& c) {
        return c.index < distance.size() ? distance[c.index] : 0;
    };
    const candidate* chosen = &best;
    for (const auto& c : candidates)
        if (close(c) && (far(c) < far(*chosen) || (far(c) == far(*chosen) && more(c, *chosen))))
            chosen = &c;
    return chosen->index;
}

}  // namespace tide::sched
