#pragma once
// Point-to-point messaging over the runtime's own communicators: non-blocking sends whose buffers
// are kept until MPI is done with them, and non-blocking matched receives (MPI_Improbe +
// MPI_Imrecv). A large message that streams in slowly (a peer reached over TCP, busy in a task)
// never stalls the caller: it completes in the background of later calls, and messages from
// one peer are still handed over in the order they were sent.
//
// Rule for every user: no message may be left unreceived when a communicator is freed. Open MPI
// reuses the context id for the next communicator, and a stale message there throws off the
// per-peer ordering, so that a later message is never matched (seen as a lost task batch). The
// protocol keeps to it: rank 0 sends a worker nothing after its shutdown, and a worker sends
// nothing after its goodbye.
//
// Peers are numbered across communicators: the ranks of the first one (the remote ranks, for
// an intercommunicator), then the ranks of each communicator added later (rank 0 adds the
// intercommunicator of every group of workers it spawns, under numbers it chooses).

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <vector>

#include "tide/detail/serialize.hpp"

namespace tide::detail {

struct message {
    int source = -1;  // peer number
    int tag = -1;
    bytes body;
};

class transport {
public:
    // Peers 0..n-1 are the ranks of `comm`. With `owned`, `comm` is tide's own duplicate, freed
    // on destruction; otherwise (a spawned worker's parent intercommunicator) the caller
    // disconnects it after the transport is gone. A message that has started arriving must
    // complete within `receive_timeout`.
    transport(MPI_Comm comm, bool owned, std::chrono::milliseconds receive_timeout);
    ~transport();
    transport(const transport&) = delete;
    transport& operator=(const transport&) = delete;

    int peers() const { return static_cast<int>(peers_.size()); }

    // Adds the remote group of intercommunicator `comm` as peers first, first+1, ... (numbers
    // not in use). The caller keeps ownership of `comm`.
    void add(MPI_Comm comm, int first);
    // Stops using the communicator of peer `first` so that it can be disconnected. False (and
    // nothing changes) while a message to or from one of its peers is still in flight, unless
    // `force`: then those requests are released and their buffers leaked (see ~transport).
    bool remove(int first, bool force);

    // A peer that died: its pending sends and partly received messages are given up (their
    // buffers leaked, as MPI may still touch them), and later sends to it are dropped.
    void forget(int peer);
    // Peers whose sends failed inside MPI (a broken connection) since the last call: the
    // caller treats them as lost. A failed send is given up, not an error of the transport.
    std::vector<int> take_failed();
    // True while a message from `peer` has started arriving and is not complete (a large one
    // may take longer than a heartbeat; it is bounded by the receive timeout).
    bool arriving_from(int peer) const;
    // Messages sent to `peer` so far (those dropped for a forgotten peer not counted), and
    // messages from it handed over by try_receive.
    std::uint64_t sent_to(int peer) const { return count_of(sent_counts_, peer); }
    std::uint64_t received_from(int peer) const { return count_of(received_counts_, peer); }
    // When this process last started sending a message, and last saw one arrive.
    std::chrono::steady_clock::time_point last_sent() const { return last_sent_; }
    std::chrono::steady_clock::time_point last_received() const { return last_received_; }

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
        int dest;
        bytes body;
    };
    struct pending_receive {
        MPI_Request request;
        message msg;
        std::chrono::steady_clock::time_point started;
        bool complete = false;
    };
    struct endpoint {
        MPI_Comm comm = MPI_COMM_NULL;  // null: no such peer (not added, or removed)
        int rank = -1;
    };
    struct link {
        MPI_Comm comm;
        int first;  // peer number of its rank 0
        int count;
    };
    // Gives up the sends to, and the receives from, the peers `ours` picks (their buffers
    // leaked, see abandon); receives already complete stay unless `complete_too`.
    template <class Pred>
    void give_up(Pred ours, bool complete_too);
    // `now`: the time of the try_receive call they serve (one clock read per call).
    bool deliver_completed(message& out, std::chrono::steady_clock::time_point now);
    bool probe(const link& l, message& out, std::chrono::steady_clock::time_point now);
    MPI_Comm owned_ = MPI_COMM_NULL;
    std::chrono::milliseconds receive_timeout_;
    std::vector<endpoint> peers_;
    std::vector<link> links_;
    std::size_t next_probe_ = 0;            // links are probed round robin, so none is starved
    std::deque<pending_receive> receives_;  // in the order MPI matched them
    std::chrono::steady_clock::time_point last_receive_poll_;
    // The last look for new messages: one after a longer pause than this probes twice. Not
    // after every short sleep: a second probe is a pass of Open MPI's whole progress engine,
    // and a rank 0 that naps 10-200 us between result batches would spend on it CPU that the
    // workers sharing its cores need (50 us tasks on 2 workers and 2 cores: 94.5% efficiency
    // at 200 us, 92% at 20 us), to see a message at most one short nap sooner.
    static constexpr auto probe_again_after = std::chrono::microseconds(200);
    std::chrono::steady_clock::time_point last_probe_;
    std::vector<pending_send> sends_;
    std::vector<bytes> pool_;
    static std::uint64_t count_of(const std::vector<std::uint64_t>& counts, int peer) {
        return peer >= 0 && static_cast<std::size_t>(peer) < counts.size()
                   ? counts[static_cast<std::size_t>(peer)]
                   : 0;
    }
    static void count(std::vector<std::uint64_t>& counts, int peer) {
        if (counts.size() <= static_cast<std::size_t>(peer))
            counts.resize(static_cast<std::size_t>(peer) + 1);
        ++counts[static_cast<std::size_t>(peer)];
    }
    std::vector<std::uint64_t> sent_counts_, received_counts_;  // by peer number
    std::vector<bool> forgotten_;                               // by peer number
    std::vector<int> failed_;
    std::chrono::steady_clock::time_point last_sent_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_received_ = last_sent_;
};

}  // namespace tide::detail
