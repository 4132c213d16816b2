#pragma once
// Receiving a wire message: each side (rank 0, a worker) registers at start-up a handler for
// each message type it accepts, and the pump hands every message to the table. What a side
// handles is then one list in one place, and a type it does not accept is a protocol fault,
// reported by the caller (route returns false).

#include <array>
#include <functional>
#include <utility>

#include "mpi/transport.hpp"
#include "protocol/wire.hpp"

namespace tide::detail {

// `Args`: what each handler gets besides the message (rank 0: the sending worker).
template <class... Args>
class message_router {
public:
    // The message decoded as `M` first (a malformed body throws protocol_error from route).
    template <class M, class F>
    void on(F handle) {
        slot(M::tag) = [handle = std::move(handle)](message& m, Args... args) {
            handle(wire::decode<M>(m.body), args...);
        };
    }
    // The message as it came, for a body read in place or kept (`Built`: the type, or the
    // writer, that names its tag).
    template <class Built, class F>
    void on_raw(F handle) {
        slot(Built::tag) = std::move(handle);
    }
    // Hands `m` to its handler; false if none accepts its tag.
    bool route(message& m, Args... args) const {
        if (m.tag <= 0 || m.tag >= static_cast<int>(handlers_.size())) return false;
        const auto& handle = handlers_[static_cast<std::size_t>(m.tag)];
        if (!handle) return false;
        handle(m, args...);
        return true;
    }

private:
    using handler = std::function<void(message&, Args...)>;
    handler& slot(wire::msg tag) { return handlers_.at(static_cast<std::size_t>(tag)); }
    std::array<handler, static_cast<std::size_t>(wire::msg::last) + 1> handlers_;
};

}  // namespace tide::detail
