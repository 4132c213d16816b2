// The run's statistics as a table (the summary rank 0 prints at the end) and as JSON
// (--tide-stats=FILE).

#include "tide/stats.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <nlohmann/json.hpp>

namespace tide {

std::string to_table(const run_stats& s) {
    std::string out = fmt::format(
        "[tide summary] {} task(s) submitted: {} ok, {} failed, {} retried after a worker "
        "loss, {} not finished{}\n",
        s.submitted, s.ok, s.failed, s.retried, s.outstanding,
        s.journal_path.empty() ? "" : fmt::format(", {} resumed from the journal", s.resumed));
    if (!s.journal_path.empty())
        out += fmt::format("[tide summary] journal {}: {} result(s) recorded in this run, {}\n",
                           s.journal_path, s.journal_recorded,
                           s.journal_bytes < 1000000
                               ? fmt::format("{:.1f} kB", s.journal_bytes / 1e3)
                               : fmt::format("{:.1f} MB", s.journal_bytes / 1e6));
    if (s.graph_sent_ahead > 0)
        out += fmt::format(
            "[tide summary] task graphs: {} task(s) sent ahead to wait where their inputs are "
            "made, {} sent back, {} input(s) forwarded\n",
            s.graph_sent_ahead, s.graph_returned, s.graph_forwarded);
    if (s.results_kept > 0)
        out += fmt::format(
            "[tide summary] results kept on workers: {} ({:.1f} MB), {} fetched to rank 0 "
            "({:.1f} MB), {} released there, {} made again\n",
            s.results_kept, s.results_kept_bytes / 1e6, s.results_fetched,
            s.results_fetched_bytes / 1e6, s.results_released, s.results_remade);
    out += fmt::format("[tide summary] makespan {:.3f} s ({:.1f} tasks/s), run time {:.3f} s\n",
                       s.makespan_seconds, s.tasks_per_second, s.elapsed_seconds);
    std::size_t host_width = 4;
    for (const auto& w : s.workers) host_width = std::max(host_width, w.host.size());
    out += fmt::format(
        "[tide summary] {:>5}  {:<{}}  {:<8}  {:<8}  {:>8}  {:>9}  {:>8}  {:>9}  {:>8}  {:>6}\n",
        "rank", "host", host_width, "origin", "state", "tasks", "executed", "busy s", "in pool s",
        "parked s", "busy%");
    for (const auto& w : s.workers)
        out += fmt::format(
            "[tide summary] {:>5}  {:<{}}  {:<8}  {:<8}  {:>8}  {:>9}  {:>8.3f}  {:>9.3f}  "
            "{:>8.3f}  {:>6.1f}\n",
            w.rank, w.host, host_width, w.origin, w.state, w.tasks, w.executed, w.busy_seconds,
            w.seconds_in_pool, w.parked_seconds, 100.0 * w.busy_fraction);
    const auto& st = s.stealing;
    out += fmt::format(
        "[tide summary] stealing: {} request(s), {} order(s), {} steal(s) ({} same-host, {} "
        "cross-host), {} task(s) moved, round trip median {:.1f} us\n",
        st.requests, st.orders, st.steals, st.same_host, st.cross_host, st.tasks_moved,
        st.round_trip_median_us);
    const auto& sc = s.scaling;
    out += fmt::format(
        "[tide summary] scaling: {} spawned (median {:.3f} s, {} spawn(s) failed), {} wake(s), "
        "{} park(s), {} retired\n",
        sc.spawned, sc.spawn_median_seconds, sc.spawn_failures, sc.wakes, sc.parks, sc.retired);
    out += fmt::format("[tide summary] bursts: {}", s.bursts);
    if (s.bursts_grown > 0)
        out += fmt::format(
            "; {} brought a worker in, its first task after median {:.3f} s, max {:.3f} s",
            s.bursts_grown, s.burst_to_new_worker_median_seconds,
            s.burst_to_new_worker_max_seconds);
    if (s.satellites_submitted + s.satellites_failed > 0)
        out += fmt::format(
            "\n[tide summary] satellites: {} submitted, {} joined (queue wait median {:.1f} s, "
            "join median {:.3f} s), {} failed",
            s.satellites_submitted, s.satellites_joined, s.satellite_wait_median_seconds,
            s.satellite_join_median_seconds, s.satellites_failed);
    out += fmt::format(
        "\n[tide summary] workers lost: {}, task batches lost: {}, protocol errors: {}\n",
        s.workers_lost, s.batches_lost, s.protocol_errors);
    return out;
}

std::string to_json(const run_stats& s) {
    nlohmann::json workers = nlohmann::json::array();
    for (const auto& w : s.workers)
        workers.push_back({{"rank", w.rank},
                           {"host", w.host},
                           {"origin", w.origin},
                           {"state", w.state},
                           {"tasks", w.tasks},
                           {"executed", w.executed},
                           {"busy_seconds", w.busy_seconds},
                           {"seconds_in_pool", w.seconds_in_pool},
                           {"parked_seconds", w.parked_seconds},
                           {"busy_fraction", w.busy_fraction}});
    const auto& st = s.stealing;
    const auto& sc = s.scaling;
    const nlohmann::json doc = {
        {"tasks",
         {{"submitted", s.submitted},
          {"resumed", s.resumed},
          {"ok", s.ok},
          {"failed", s.failed},
          {"retried", s.retried},
          {"outstanding", s.outstanding}}},
        {"graph",
         {{"sent_ahead", s.graph_sent_ahead},
          {"returned", s.graph_returned},
          {"forwarded", s.graph_forwarded}}},
        {"kept_results",
         {{"kept", s.results_kept},
          {"kept_bytes", s.results_kept_bytes},
          {"fetched", s.results_fetched},
          {"fetched_bytes", s.results_fetched_bytes},
          {"released", s.results_released},
          {"remade", s.results_remade}}},
        {"elapsed_seconds", s.elapsed_seconds},
        {"makespan_seconds", s.makespan_seconds},
        {"tasks_per_second", s.tasks_per_second},
        {"workers", workers},
        {"stealing",
         {{"requests", st.requests},
          {"served_centrally", st.served_centrally},
          {"orders", st.orders},
          {"steals", st.steals},
          {"same_host", st.same_host},
          {"cross_host", st.cross_host},
          {"empty", st.empty},
          {"tasks_moved", st.tasks_moved},
          {"round_trip_median_us", st.round_trip_median_us},
          {"round_trip_max_us", st.round_trip_max_us}}},
        {"scaling",
         {{"spawned", sc.spawned},
          {"spawn_failures", sc.spawn_failures},
          {"spawns_hung", sc.spawns_hung},
          {"spawn_median_seconds", sc.spawn_median_seconds},
          {"wakes", sc.wakes},
          {"parks", sc.parks},
          {"retired", sc.retired}}},
        {"bursts",
         {{"count", s.bursts},
          {"grown", s.bursts_grown},
          {"to_new_worker_median_seconds", s.burst_to_new_worker_median_seconds},
          {"to_new_worker_max_seconds", s.burst_to_new_worker_max_seconds}}},
        {"satellites",
         {{"submitted", s.satellites_submitted},
          {"joined", s.satellites_joined},
          {"failed", s.satellites_failed},
          {"wait_median_seconds", s.satellite_wait_median_seconds},
          {"join_median_seconds", s.satellite_join_median_seconds}}},
        {"workers_lost", s.workers_lost},
        {"batches_lost", s.batches_lost},
        {"protocol_errors", s.protocol_errors},
        {"journal",
         {{"path", s.journal_path}, {"recorded", s.journal_recorded}, {"bytes", s.journal_bytes}}}};
    return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tide
