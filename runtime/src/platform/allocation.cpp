#include "platform/allocation.hpp"

#include "platform/sbatch_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace tide::detail {

namespace {

using steady = std::chrono::steady_clock;
using system = std::chrono::system_clock;

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

int env_int(const char* name) {
    const std::string v = env_or_empty(name);
    return v.empty() ? 0 : std::atoi(v.c_str());
}

// The steady-clock moment of a wall-clock epoch second: the run measures time left on the
// steady clock, which no NTP step can move.
steady::time_point steady_at_epoch(long long epoch) {
    const auto wall_left = system::from_time_t(static_cast<std::time_t>(epoch)) - system::now();
    return steady::now() + std::chrono::duration_cast<steady::duration>(wall_left);
}

// squeue's answer for this job, within a deadline (the controller may be slow or down):
// the end as seconds since the epoch, printed so by SLURM_TIME_FORMAT=%s.
std::string ask_squeue(const std::string& job) {
    const std::string command =
        "SLURM_TIME_FORMAT=%s timeout 10 squeue --noheader --jobs=" + job + " --format=%e 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return {};
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    pclose(pipe);
    return out;
}

}  // namespace

std::optional<long long> parse_end_epoch(const std::string& text) {
    std::string s = text.substr(0, text.find('\n'));  // a heterogeneous job: its first part
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
    // "Unknown" or "N/A" for an unlimited job, or an error; ten digits reach the year 2286.
    if (!all_digits(s) || s.size() > 10) return std::nullopt;
    const long long epoch = std::atoll(s.c_str());
    return epoch > 0 ? std::optional(epoch) : std::nullopt;
}

allocation read_allocation(const config& cfg) {
    allocation a;
    a.job_id = env_or_empty("SLURM_JOB_ID");
    a.nodes = env_or_empty("SLURM_JOB_NODELIST");
    a.tasks = env_int("SLURM_NTASKS");
    a.cpus_on_node = env_int("SLURM_CPUS_ON_NODE");
    if (cfg.walltime >= 0) {
        if (cfg.walltime > 0) {
            a.ends_at = steady::now() + std::chrono::duration_cast<steady::duration>(
                                            std::chrono::duration<double>(cfg.walltime));
            a.end_source = "--tide-walltime";
        } else {
            a.end_source = "--tide-walltime=0 ignores any limit";
        }
        return a;
    }
    if (!a.inside_slurm()) {
        a.end_source = "not inside a Slurm job and no --tide-walltime";
        return a;
    }
    if (const auto end = parse_end_epoch(env_or_empty("SLURM_JOB_END_TIME"))) {
        a.ends_at = steady_at_epoch(*end);
        a.end_source = "SLURM_JOB_END_TIME";
        return a;
    }
    if (!all_digits(a.job_id)) {
        a.end_source = "SLURM_JOB_ID '" + a.job_id + "' is not a job number";
        return a;
    }
    const std::string answer = ask_squeue(a.job_id);
    if (const auto end = parse_end_epoch(answer)) {
        a.ends_at = steady_at_epoch(*end);
        a.end_source = "squeue";
    } else {
        std::string said = answer.substr(0, answer.find('\n'));
        a.end_source = said.empty() ? "squeue gave no end time" : "squeue said '" + said + "'";
    }
    return a;
}

std::string allocation::describe() const {
    std::string line;
    if (inside_slurm())
        line = fmt::format("Slurm job {}: nodes {}, {} task(s), {} CPU(s) on this node; ", job_id,
                           nodes.empty() ? "?" : nodes, tasks, cpus_on_node);
    if (ends_at) {
        const double left = std::chrono::duration<double>(*ends_at - steady::now()).count();
        line += fmt::format("the job ends in {:.0f} s (from {})", left, end_source);
    } else {
        line += "no time limit known (" + end_source + ")";
    }
    return line;
}

}  // namespace tide::detail
