#pragma once
// Point-to-point messaging over the runtime's own communicator: non-blocking sends whose buffers
// are kept until MPI is done with them, and non-blocking matched receives (MPI_Improbe +
// MPI_Imrecv). A large message that streams in slowly (a peer reached over TCP, busy in a task)
// never stalls the caller: it completes in the background of later calls, and messages from
// one peer are still handed over in the order they were sent.

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <deque>
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
    // Takes ownership of `comm` (a duplicate made for tide) and frees it on destruction. A
    // message that has started arriving must complete within `receive_timeout`.
    transport(MPI_Comm comm, std::chrono::milliseconds receive_timeout);
    ~transport();
    transport(const transport&) = delete;
    transport& operator=(const transport&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }

    // Starts sending `body`; the buffer is kept until the send completes.
    void send(int dest, int tag, bytes body);
    // Completes finished sends; true if any finished.
    bool progress_sends();
    // Waits for all sends until `deadline`; false if some are still pending then.
    bool drain_sends(std::chrono::steady_clock::time_point deadline);

    // Hands over one complete message, if any, never waiting. Throws tide::error when a
    // message has been arriving for longer than the receive timeout (its peer stopped
    // mid-message).
    bool try_receive(message& out);

    // Byte buffers are recycled so the steady state allocates nothing per message.
    bytes take_buffer();
    void recycle(bytes&& buffer);

private:
    struct pending_send {
        MPI_Request request;
        bytes body;
    };
    struct pending_receive {
        MPI_Request request;
        message msg;
        std::chrono::steady_clock::time_point started;
        bool complete = false;
    };
    bool deliver_completed(message& out);
    MPI_Comm comm_;
    std::chrono::milliseconds receive_timeout_;
    std::deque<pending_receive> receives_;  // in the order MPI matched them
    std::chrono::steady_clock::time_point last_receive_poll_;
    int rank_ = 0;
    int size_ = 1;
    std::vector<pending_send> sends_;
    std::vector<bytes> pool_;
};

}  // namespace tide::detail
