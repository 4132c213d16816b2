#include "rank0/node_groups.hpp"

#include <cstdlib>
#include <sstream>
#include <thread>

#include "platform/log.hpp"

namespace tide::detail {

namespace {

// Settings the group's processes need on a node the agent may not pass them to (ssh starts a
// clean environment): the user's Open MPI settings and tide's own, but not rank 0's exit file.
std::vector<std::string> settings_to_forward() {
    std::vector<std::string> out;
    for (const auto& entry : environment_for_a_launcher()) {
        const bool ours = entry.rfind("OMPI_MCA_", 0) == 0 ||
                          entry.rfind("OMPI_ALLOW_RUN_AS_ROOT", 0) == 0 ||
                          entry.rfind("TIDE_", 0) == 0;
        if (ours && entry.rfind("TIDE_EXIT_CODE_FILE=", 0) != 0) out.push_back(entry);
    }
    return out;
}

}  // namespace

std::vector<std::string> node_agent(const std::string& configured) {
    const char* open_mpi = std::getenv("OMPI_MCA_plm_rsh_agent");
    std::vector<std::string> words;
    std::istringstream in(!configured.empty()     ? configured
                          : open_mpi && *open_mpi ? std::string(open_mpi)
                                                  : std::string("ssh"));
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

node_groups::node_groups(node_launch_settings settings)
    : s_(std::move(settings)), lost_(s_.nodes.size(), false) {}

std::optional<sched::node_choice> node_groups::choose(const std::vector<int>& in_use,
                                                      int want) const {
    return sched::choose_node(s_.nodes, in_use, lost_, want);
}

std::vector<std::string> node_groups::command_line(std::size_t node, int count, int first,
                                                   const std::string& port) const {
    const std::string& host = s_.nodes[node].host;
    std::string line = "env";
    for (const auto& v : settings_to_forward()) line += " " + shell_word(v);
    // --enable-recovery: one worker that dies costs only itself, not its whole group.
    line += " mpirun --enable-recovery --ompi-server " + shell_word(s_.server_uri) + " --host " +
            shell_word(host + ":" + std::to_string(count)) + " -n " + std::to_string(count) + " " +
            shell_word(s_.command);
    for (const auto& a : s_.args) line += " " + shell_word(a);
    line += " " + shell_word("--tide-spawned-base=" + std::to_string(first));
    line += " " + shell_word("--tide-join=" + port);
    std::vector<std::string> argv = s_.agent;
    argv.push_back(host);
    argv.push_back(line);
    return argv;
}

void node_groups::launch(std::uint64_t group, std::size_t node, int count, int first,
                         const std::string& port) {
    launcher l;
    l.node = node;
    l.process = std::make_unique<child_process>(command_line(node, count, first, port),
                                                environment_for_a_launcher());
    launchers_.emplace(group, std::move(l));
}

std::vector<node_groups::ended> node_groups::reap() {
    std::vector<ended> out;
    for (auto it = launchers_.begin(); it != launchers_.end();) {
        if (auto how = it->second.process->ended()) {
            out.push_back({it->first, it->second.node, *how});
            it = launchers_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

void node_groups::finish(std::chrono::steady_clock::time_point deadline) {
    while (!launchers_.empty() && std::chrono::steady_clock::now() < deadline) {
        reap();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& [group, l] : launchers_) {
        log().warn("the launcher of group {} on {} did not end with its workers; stopping it",
                   group, host(l.node));
        l.process->end(1000);
    }
    launchers_.clear();
}

}  // namespace tide::detail
