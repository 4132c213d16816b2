#pragma once
// This process's place on its machine, through hwloc (the only file of tide that uses it): the
// cores it was given (by mpirun, Slurm or a cgroup: the binding it started with), and binding
// itself to some of them. Rank 0 decides who goes where (scheduler/placement.hpp).

#include <memory>
#include <string>
#include <vector>

#include "tide/scheduler/placement.hpp"

namespace tide::detail {

struct machine_view {
    std::vector<sched::core_info> cores;  // the cores this process may use (given PUs only)
    std::string summary;                  // "1 package, 1 NUMA node, 2 cores, 2 PUs"
    std::string given;                    // the PUs it started bound to, "0-1"
};

struct bind_outcome {
    bool ok = false;
    std::string bound;  // the PUs the process is bound to now, as read back
    std::string error;  // why not, when !ok
};

class machine_binding {
public:
    // Loads the topology. Throws tide::error when hwloc cannot (the run goes on unbound).
    machine_binding();
    ~machine_binding();
    machine_binding(const machine_binding&) = delete;
    machine_binding& operator=(const machine_binding&) = delete;

    const machine_view& view() const { return view_; }
    // Binds every thread of the process to these PUs and reads the binding back.
    bind_outcome bind(const std::vector<int>& pus);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    machine_view view_;
};

}  // namespace tide::detail
