#pragma once
// Point-to-point messaging over the runtime's own communicator: non-blocking sends whose buffers
// are kept until MPI is done with them, and matched-probe receives (safe with several threads)
// that never wait without a deadline.

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "tide/detail/serialize.hpp"

namespace tide::detail {

struct message {
    int source = -1;
    int tag = -1;
    bytes body;
};

class transport {
public:
    // Takes ownership of `comm` (a duplicate made for tide) and frees it on destruction.
    explicit transport(MPI_Comm comm);
    ~transport();
    transport(const transport&) = delete;
    transport& operator=(const transport&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }

    // Starts sending `body`; the buffer is kept until the send completes.
    void send(int dest, int tag, bytes body);
    // Completes finished sends; true if any finished.
    bool progress_sends();
    std::size_t pending_sends() const { return sends_.size(); }
    // Waits for all sends until `deadline`; false if some are still pending then.
    bool drain_sends(std::chrono::steady_clock::time_point deadline);

    // Takes one waiting message, if any. A message whose data does not arrive within
    // `receive_timeout` throws tide::error (the peer stopped mid-message).
    bool try_receive(message& out, std::chrono::milliseconds receive_timeout);

    // Byte buffers are recycled so the steady state allocates nothing per message.
    bytes take_buffer();
    void recycle(bytes&& buffer);

private:
    struct pending_send {
        MPI_Request request;
        bytes body;
    };
    MPI_Comm comm_;
    int rank_ = 0;
    int size_ = 1;
    std::vector<pending_send> sends_;
    std::vector<bytes> pool_;
};

}  // namespace tide::detail
