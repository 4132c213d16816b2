// tide-sim: one simulated run (scheduler/sim/simulator.hpp), one result line:
//   name=sim workers=P tasks=N service=KIND ... makespan=S rank0_busy=S idle=F ...
//   tide-sim --workers 1000 --tasks 10000000 --service exponential --mean 1e-3 --incremental
// scripts/bench-sim validates it against real runs and sweeps the pool from 10 to 10,000.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "simulator.hpp"

int main(int argc, char** argv) {
    using tide::sim::service_kind;
    CLI::App app{"tide-sim: tide's scheduling policies on a simulated pool"};
    tide::sim::sim_config c;
    std::string service = "constant";
    bool per_task = false;
    app.add_option("--workers", c.workers, "Workers at the start")->check(CLI::PositiveNumber);
    app.add_option("--max-workers", c.max_workers, "Workers the elastic policy may grow to");
    app.add_option("--tasks", c.tasks, "Tasks of the bulk map")->check(CLI::PositiveNumber);
    app.add_option("--service", service, "Task durations")
        ->check(CLI::IsMember({"constant", "exponential", "lognormal", "tree"}));
    app.add_option("--mean", c.service.mean, "Mean task (tree: node) seconds");
    app.add_option("--sigma", c.service.sigma, "Lognormal: sigma of the logarithm");
    app.add_option("--root-children", c.service.root_children, "Tree: the root's children");
    app.add_option("--children", c.service.children, "Tree: children of a node that has any");
    app.add_option("--q", c.service.q, "Tree: probability that a node has children");
    app.add_option("--prefetch", c.prefetch, "Tasks a worker holds (--tide-prefetch)");
    app.add_flag("--per-task", per_task, "A record per task (no bulk ranges)");
    app.add_flag("--known", c.durations_known,
                 "Task lengths known (a run's later maps): ranges of about 2 ms");
    app.add_flag("--incremental", c.incremental_dispatch,
                 "fill_order instead of plan_dispatch's scan of every worker");
    app.add_option("--per-leader", c.per_leader, "Workers per node leader (0: none)");
    app.add_option("--spawn-seconds", c.spawn_seconds, "Spawn latency");
    app.add_option("--spawn-hang", c.spawn_hang, "Probability that a spawn hangs");
    app.add_option("--death", c.deaths, "When a worker dies (repeatable)");
    app.add_option("--heartbeat", c.heartbeat, "Until rank 0 notices a death");
    app.add_option("--latency", c.cost.latency, "One-way message latency");
    app.add_option("--bandwidth", c.cost.bandwidth, "Bytes per second");
    app.add_option("--rank0-per-message", c.cost.rank0_per_message, "Rank 0 per message");
    app.add_option("--rank0-per-record", c.cost.rank0_per_record, "Rank 0 per record");
    app.add_option("--rank0-per-task", c.cost.rank0_per_task, "Rank 0 per task of a range");
    app.add_option("--worker-per-task", c.cost.worker_per_task, "A worker's cost per task");
    app.add_option("--seed", c.seed, "Random seed");
    CLI11_PARSE(app, argc, argv);
    const std::map<std::string, service_kind> kinds{{"constant", service_kind::constant},
                                                    {"exponential", service_kind::exponential},
                                                    {"lognormal", service_kind::lognormal},
                                                    {"tree", service_kind::tree}};
    c.service.kind = kinds.at(service);
    c.ranges = !per_task;
    if (c.per_leader > 0 && c.service.kind == service_kind::tree) {
        std::cerr << "tide-sim: --per-leader models bulk maps, not trees\n";
        return 2;
    }
    const auto r = tide::sim::simulate(c);
    std::printf(
        "name=sim workers=%zu tasks=%zu service=%s mean=%g ranges=%d incremental=%d "
        "per_leader=%zu %s\n",
        c.workers, c.tasks, service.c_str(), c.service.mean, c.ranges ? 1 : 0,
        c.incremental_dispatch ? 1 : 0, c.per_leader, tide::sim::to_line(r).c_str());
    return 0;
}
