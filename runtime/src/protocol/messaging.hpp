#pragma once
// Sending a wire message: the tag comes from the message's type (or from the type of the writer
// that built its body), never written by hand, so a body cannot go out under another's tag.

#include <utility>

#include "mpi/transport.hpp"
#include "protocol/wire.hpp"

namespace tide::detail {

// Sends `m`, a message type that lists its fields (see wire.hpp).
template <class M>
void send_message(transport& net, int dest, M m) {
    net.send(dest, static_cast<int>(M::tag), wire::encode(std::move(m)));
}

// Sends a body that a `Writer` (task_batch_writer, stolen_writer, ...) built.
template <class Writer>
void send_built(transport& net, int dest, bytes body) {
    net.send(dest, static_cast<int>(Writer::tag), std::move(body));
}

}  // namespace tide::detail
