#pragma once
// Runs one task from its wire form: look up the name, check the signature, decode the
// arguments, call the function, encode the result. Shared by workers and by rank 0 when it runs
// tasks itself (single-rank runs), so both behave the same way.

#include <cstdint>
#include <span>

#include "tide/detail/serialize.hpp"
#include "wire.hpp"

namespace tide::detail {

// Appends the result, or on failure the error text, to `out`.
wire::result_status execute(std::uint64_t name_hash, std::uint64_t signature,
                            std::span<const std::byte> args, bytes& out);

}  // namespace tide::detail
