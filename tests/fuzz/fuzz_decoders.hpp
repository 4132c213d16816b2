#pragma once
// The decoders the fuzz target drives, and the seed messages made with the real encoders; one
// selector byte per decoder (wire message types by their tag, then task-argument types).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tide::fuzz {

// Decodes `body` with the decoder `selector` picks, checks what decodes by encoding it again,
// and aborts on any outcome a peer's bytes must not cause. True if it decoded.
bool decode_one(std::uint8_t selector, std::span<const std::byte> body);

// One real message per decoder: {selector, body}.
std::vector<std::pair<std::uint8_t, std::vector<std::byte>>> seed_messages();

}  // namespace tide::fuzz
