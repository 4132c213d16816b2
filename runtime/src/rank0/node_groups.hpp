#pragma once
// Workers on the nodes of --tide-nodes, started a group at a time, each group as an Open MPI job
// of its own: rank 0 runs `mpirun` on the node through the node agent (ssh, or the agent
// Open MPI uses), and the group joins rank 0 with MPI_Comm_connect (both jobs reach each other
// through the ompi-server the run was started with). A node that dies then takes only its own
// group's job with it: rank 0's job and the other nodes' groups never shared a daemon with it.
// (Workers spawned with MPI_Comm_spawn live under rank 0's own job, whose daemons span the
// nodes: Open MPI 4.1 ends the whole job when one of them is lost.)

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/child_process.hpp"
#include "tide/scheduler/node_slots.hpp"

namespace tide::detail {

struct node_launch_settings {
    std::vector<sched::node_slots> nodes;
    std::vector<std::string> agent;  // runs "AGENT HOST COMMAND-LINE" on HOST
    std::string server_uri;          // the ompi-server's contact, for the groups' mpirun
    std::string command;             // what workers run (this program) and its arguments
    std::vector<std::string> args;
};

class node_groups {
public:
    explicit node_groups(node_launch_settings settings);

    std::size_t size() const { return s_.nodes.size(); }
    const std::string& host(std::size_t node) const { return s_.nodes[node].host; }
    bool lost(std::size_t node) const { return lost_[node]; }
    // Where a group of up to `want` workers goes, given the workers in use on each node.
    std::optional<sched::node_choice> choose(const std::vector<int>& in_use, int want) const;
    // The slots left on the nodes not lost, given the workers in use on each node.
    int free_slots(const std::vector<int>& in_use) const {
        return sched::free_slots(s_.nodes, in_use, lost_);
    }

    // Starts `count` workers numbered from `first` on `node`; they connect to `port`. Throws
    // tide::error when the agent cannot be started.
    void launch(std::uint64_t group, std::size_t node, int count, int first,
                const std::string& port);
    // A launcher that ended since the last call (its job, and so its workers, are gone).
    struct ended {
        std::uint64_t group = 0;
        std::size_t node = 0;
        std::string how;  // "exited with 1", "killed by signal 9"
    };
    std::vector<ended> reap();
    // No more groups go to `node` in this run (its group was lost, or could not start).
    void lose(std::size_t node) { lost_[node] = true; }

    // At the end of the run: waits until `deadline` for the launchers to end (their workers
    // were told to), then stops those still running.
    void finish(std::chrono::steady_clock::time_point deadline);

private:
    struct launcher {
        std::size_t node = 0;
        std::unique_ptr<child_process> process;
    };
    std::vector<std::string> command_line(std::size_t node, int count, int first,
                                          const std::string& port) const;
    node_launch_settings s_;
    std::vector<bool> lost_;
    std::map<std::uint64_t, launcher> launchers_;
};

// The agent to start groups with, as words: --tide-node-agent, else the one Open MPI starts its
// daemons with (OMPI_MCA_plm_rsh_agent, as the fake cluster sets it), else ssh.
std::vector<std::string> node_agent(const std::string& configured);

}  // namespace tide::detail
