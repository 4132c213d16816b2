// libFuzzer target over everything a rank decodes from its peers: every message type of the
// wire protocol, and task arguments in tide's bounded serialization; and over what rank 0
// reads from a result journal (--tide-journal), whatever the file holds. The first byte picks the
// decoder (as the MPI tag does), the rest is the message body. A decoder may only return or
// throw tide::protocol_error (a wire frame) or decode_failure (arguments); anything else — a
// crash, a sanitizer report, another exception, a huge allocation — is a finding.
//
// What decodes is encoded again and must decode to the same (the encoders are the ones the
// runtime sends with), so a decoder that accepts a frame but misreads it is a finding too.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "fuzz_decoders.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    tide::fuzz::decode_one(data[0], std::span<const std::byte>(bytes + 1, size - 1));
    return 0;
}
