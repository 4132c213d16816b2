#include "mpi/transport.hpp"

#include <algorithm>
#include <climits>
#include <string>
#include <thread>

#include "mpi/mpi_call.hpp"
#include "tide/error.hpp"

namespace tide::detail {

void throw_mpi_error(const char* routine, int code) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
    throw mpi_error(routine, code, std::string(text, static_cast<std::size_t>(len)));
}

transport::transport(MPI_Comm comm, bool owned, std::chrono::milliseconds receive_timeout)
    : receive_timeout_(receive_timeout) {
    if (owned) owned_ = comm;
    add(comm, 0);
}

void transport::add(MPI_Comm comm, int first) {
    int inter = 0, count = 0;
    TIDE_MPI(MPI_Comm_test_inter, comm, &inter);
    if (inter)
        TIDE_MPI(MPI_Comm_remote_size, comm, &count);
    else
        TIDE_MPI(MPI_Comm_size, comm, &count);
    if (first + count > peers()) peers_.resize(static_cast<std::size_t>(first + count));
    for (int r = 0; r < count; ++r)
        if (peers_[static_cast<std::size_t>(first + r)].comm != MPI_COMM_NULL)
            throw error("tide: peer number " + std::to_string(first + r) + " is in use");
    for (int r = 0; r < count; ++r) peers_[static_cast<std::size_t>(first + r)] = {comm, r};
    links_.push_back({comm, first, count});
}

namespace {
// Gives up on a request that may never complete: MPI may still touch its buffer, so the buffer
// is leaked on purpose rather than freed under it.
void abandon(MPI_Request& request, bytes&& buffer) {
    MPI_Request_free(&request);
    new bytes(std::move(buffer));
}
}  // namespace

template <class Pred>
void transport::give_up(Pred ours, bool complete_too) {
    for (std::size_t i = 0; i < sends_.size();)
        if (ours(sends_[i].dest)) {
            abandon(sends_[i].request, std::move(sends_[i].body));
            sends_[i] = std::move(sends_.back());
            sends_.pop_back();
        } else {
            ++i;
        }
    std::erase_if(receives_, [&](pending_receive& r) {
        if (!ours(r.msg.source) || (r.complete && !complete_too)) return false;
        if (!r.complete) abandon(r.request, std::move(r.msg.body));
        return true;
    });
}

bool transport::remove(int first, bool force) {
    const auto l =
        std::find_if(links_.begin(), links_.end(), [&](const link& x) { return x.first == first; });
    if (l == links_.end()) return true;
    const auto ours = [&](int peer) { return peer >= l->first && peer < l->first + l->count; };
    progress_sends();
    const bool busy =
        std::any_of(sends_.begin(), sends_.end(), [&](auto& s) { return ours(s.dest); }) ||
        std::any_of(receives_.begin(), receives_.end(),
                    [&](auto& r) { return ours(r.msg.source) && !r.complete; });
    if (busy && !force) return false;
    give_up(ours, true);
    for (int p = l->first; p < l->first + l->count; ++p)
        peers_[static_cast<std::size_t>(p)] = endpoint{};
    links_.erase(l);
    next_probe_ = 0;
    return true;
}

transport::~transport() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    // Sends still pending here belong to peers that never took them (a shutdown past its
    // deadline, a failure). MPI may read their buffers until they complete, which may be
    // never: release the requests and leak the buffers on purpose rather than free memory MPI
    // can still touch. This happens only on the way to an abort.
    for (auto& s : sends_) abandon(s.request, std::move(s.body));
    for (auto& r : receives_)
        if (!r.complete) abandon(r.request, std::move(r.msg.body));
    if (owned_ != MPI_COMM_NULL) MPI_Comm_free(&owned_);
}

void transport::forget(int peer) {
    if (peer < 0) return;
    if (forgotten_.size() <= static_cast<std::size_t>(peer))
        forgotten_.resize(static_cast<std::size_t>(peer) + 1);
    forgotten_[static_cast<std::size_t>(peer)] = true;
    give_up([peer](int p) { return p == peer; }, false);  // complete ones still come out
}

std::vector<int> transport::take_failed() { return std::exchange(failed_, {}); }

bool transport::arriving_from(int peer) const {
    return std::any_of(receives_.begin(), receives_.end(), [&](const pending_receive& r) {
        return r.msg.source == peer && !r.complete;
    });
}

void transport::send(int dest, int tag, bytes body) {
    if (dest >= 0 && static_cast<std::size_t>(dest) < forgotten_.size() &&
        forgotten_[static_cast<std::size_t>(dest)]) {
        recycle(std::move(body));  // the peer is gone: nobody would take it
        return;
    }
    if (body.size() > static_cast<std::size_t>(INT_MAX))
        throw error("tide: a message of " + std::to_string(body.size()) +
                    " bytes exceeds what one MPI message carries (2 GiB); send smaller tasks");
    const endpoint to =
        dest >= 0 && dest < peers() ? peers_[static_cast<std::size_t>(dest)] : endpoint{};
    if (to.comm == MPI_COMM_NULL)
        throw error("tide: no connection to peer " + std::to_string(dest));
    sends_.push_back({MPI_REQUEST_NULL, dest, std::move(body)});
    auto& s = sends_.back();
    TIDE_MPI(MPI_Isend, s.body.data(), static_cast<int>(s.body.size()), MPI_BYTE, to.rank, tag,
             to.comm, &s.request);
    count(sent_counts_, dest);
    last_sent_ = std::chrono::steady_clock::now();
}

bool transport::progress_sends() {
    bool any = false;
    for (std::size_t i = 0; i < sends_.size();) {
        int done = 0;
        if (MPI_Test(&sends_[i].request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            // The connection to that peer broke (it died): give the send up, report the peer.
            failed_.push_back(sends_[i].dest);
            abandon(sends_[i].request, std::move(sends_[i].body));
            sends_[i] = std::move(sends_.back());
            sends_.pop_back();
            any = true;
            continue;
        }
        if (done) {
            recycle(std::move(sends_[i].body));
            sends_[i] = std::move(sends_.back());
            sends_.pop_back();
            any = true;
        } else {
            ++i;
        }
    }
    return any;
}

bool transport::drain_sends(std::chrono::steady_clock::time_point deadline) {
    while (!sends_.empty()) {
        if (!progress_sends()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
    return true;
}

bool transport::deliver_completed(message& out, std::chrono::steady_clock::time_point now) {
    for (std::size_t i = 0; i < receives_.size(); ++i) {
        auto& r = receives_[i];
        if (!r.complete) {
            int done = 0;
            TIDE_MPI(MPI_Test, &r.request, &done, MPI_STATUS_IGNORE);
            r.complete = done != 0;
        }
        if (!r.complete) {
            if (now - r.started > receive_timeout_)
                throw error("tide: a " + std::to_string(r.msg.body.size()) +
                            "-byte message from rank " + std::to_string(r.msg.source) +
                            " did not finish arriving within " +
                            std::to_string(receive_timeout_.count()) + " ms");
            continue;
        }
        // A complete message goes out only if nothing from the same peer is ahead of it.
        bool blocked = false;
        for (std::size_t j = 0; j < i && !blocked; ++j)
            blocked = receives_[j].msg.source == r.msg.source;
        if (blocked) continue;
        out = std::move(r.msg);
        receives_.erase(receives_.begin() + static_cast<std::ptrdiff_t>(i));
        count(received_counts_, out.source);
        return true;
    }
    return false;
}

bool transport::try_receive(message& out) {
    const auto now = std::chrono::steady_clock::now();
    if (!receives_.empty()) {
        // A message advances only while this rank polls: a spell without polls (a long task
        // with no keeper thread) does not count against the receive timeout.
        const auto gap = now - last_receive_poll_;
        if (gap > std::chrono::milliseconds(10))
            for (auto& r : receives_) r.started += gap;
        last_receive_poll_ = now;
        if (deliver_completed(out, now)) return true;
    }
    // Open MPI's probe matches first and makes progress after: a message that came in while
    // this process slept is pulled off the wire by one probe and matched only by the next.
    // Polls back to back do not mind; the first poll after a pause probes a second time, or
    // every message met after a sleep would wait a whole second sleep (see probe_again_after).
    const bool after_pause = now - last_probe_ > probe_again_after;
    last_probe_ = now;
    for (int pass = after_pause ? 2 : 1; pass > 0; --pass)
        for (std::size_t k = 0; k < links_.size(); ++k) {
            const link& l = links_[next_probe_++ % links_.size()];
            if (probe(l, out, now)) return true;
        }
    return false;
}

bool transport::probe(const link& l, message& out, std::chrono::steady_clock::time_point now) {
    int found = 0;
    MPI_Message handle;
    MPI_Status status;
    TIDE_MPI(MPI_Improbe, MPI_ANY_SOURCE, MPI_ANY_TAG, l.comm, &found, &handle, &status);
    if (!found) return false;
    int count = 0;
    TIDE_MPI(MPI_Get_count, &status, MPI_BYTE, &count);
    pending_receive r;
    r.msg.source = l.first + status.MPI_SOURCE;
    r.msg.tag = status.MPI_TAG;
    r.msg.body = take_buffer();
    r.msg.body.resize(static_cast<std::size_t>(count));
    r.started = last_receive_poll_ = last_received_ = now;
    receives_.push_back(std::move(r));
    auto& posted = receives_.back();  // the buffer MPI writes into stays in the deque
    TIDE_MPI(MPI_Imrecv, posted.msg.body.data(), count, MPI_BYTE, &handle, &posted.request);
    return deliver_completed(out, now);
}

bytes transport::take_buffer() {
    if (pool_.empty()) return {};
    bytes b = std::move(pool_.back());
    pool_.pop_back();
    b.clear();
    return b;
}

void transport::recycle(bytes&& buffer) {
    // Keep a handful of modest buffers; a huge one would pin memory for the rest of the run.
    if (pool_.size() < 16 && buffer.capacity() <= (std::size_t{8} << 20))
        pool_.push_back(std::move(buffer));
}

}  // namespace tide::detail
