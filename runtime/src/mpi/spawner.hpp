#pragma once
// Rank 0's side thread for the MPI calls that can block for long: MPI_Comm_spawn (which, with
// Open MPI 4.1 and PMIx 4, hangs for good about once in a few hundred spawns), MPI_Comm_accept
// of a group started on another node (which waits for ever if the group never comes) and
// MPI_Comm_disconnect of a retired group. Rank 0 keeps scheduling while they run; each has a
// deadline. A job past its deadline is given up on: its thread is abandoned (it may still
// finish, and a late spawn is then reported as such) and later jobs run on a fresh thread.
// Needs MPI_THREAD_MULTIPLE.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mpi/intercomm.hpp"

namespace tide::detail {

struct spawn_outcome {
    std::uint64_t group = 0;  // the number given to spawn()
    intercomm comm;           // the intercommunicator to the new workers, on success
    std::string error;        // why it failed; empty on success
    double seconds = 0;       // how long the spawn took (or ran before it was given up)
    bool late = false;        // completed after it had been given up on
    bool hung = false;        // given up on at the deadline (the call never returned)
};

class spawner {
public:
    // Workers run `command` with `args` followed by "--tide-spawned-base=N" (the number of the
    // group's first worker). `info` holds KEY=VALUE entries for the spawn's MPI_Info.
    spawner(std::string command, std::vector<std::string> args, std::vector<std::string> info,
            std::chrono::milliseconds timeout);
    ~spawner();
    spawner(const spawner&) = delete;
    spawner& operator=(const spawner&) = delete;

    // Starts `count` workers numbered from `first`, as one group (one MPI_Comm_spawn).
    void spawn(std::uint64_t group, int count, int first);
    // Takes in a group of `count` workers started outside MPI that connect to `port` (opened
    // with MPI_Open_port; closed once they came).
    void accept(std::uint64_t group, int count, std::string port);
    // Gives up on starting `group` now (its launcher ended before it joined, or could not be
    // started): it is reported as failed with `why`, unless it finished already; a call already
    // inside MPI is abandoned as at the deadline.
    void give_up(std::uint64_t group, const std::string& why);
    // Disconnects a group's intercommunicator once its workers have all said goodbye.
    void disconnect(intercomm comm);

    // Spawns finished since the last call, including those given up on just now. Never waits.
    std::vector<spawn_outcome> collect();
    bool busy() const;  // a job is queued or running
    // Jobs given up on, and those of them still inside MPI: while any is, MPI_Finalize must not
    // run (it could hang or crash under the stuck call).
    int abandoned() const;
    int stuck() const;
    // Waits until no job is queued or running, or the deadline; false at the deadline.
    bool wait_idle(std::chrono::steady_clock::time_point deadline);

private:
    struct shared;
    struct runner;
    void start_runner();
    // Abandons the running job: its outcome is failed with `why` (or it arrives late), and a
    // fresh thread takes the queued jobs.
    void abandon_current(std::unique_lock<std::mutex>& lock, std::string why);
    std::shared_ptr<shared> shared_;
    std::shared_ptr<runner> runner_;
};

}  // namespace tide::detail
