#pragma once
// The intercommunicator to a group of spawned workers, owned. Disconnecting it is collective
// over the group (it waits for every member), so it is never done by accident in a destructor:
// the owner either hands it to the spawner to disconnect off rank 0's thread (release), or
// lets it go with the group (a dead member would make the disconnect wait for ever), and MPI
// keeps it until the process ends.

#include <mpi.h>

#include <utility>

namespace tide::detail {

class intercomm {
public:
    intercomm() = default;
    explicit intercomm(MPI_Comm comm) : comm_(comm) {}
    intercomm(intercomm&& other) noexcept : comm_(std::exchange(other.comm_, MPI_COMM_NULL)) {}
    intercomm& operator=(intercomm&& other) noexcept {
        comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
        return *this;
    }
    intercomm(const intercomm&) = delete;
    intercomm& operator=(const intercomm&) = delete;

    // For the transport, which sends and receives on it while the group is linked.
    MPI_Comm get() const { return comm_; }
    explicit operator bool() const { return comm_ != MPI_COMM_NULL; }
    // Hands it over (to be disconnected); this owner holds nothing afterwards.
    MPI_Comm release() { return std::exchange(comm_, MPI_COMM_NULL); }

private:
    MPI_Comm comm_ = MPI_COMM_NULL;
};

}  // namespace tide::detail
