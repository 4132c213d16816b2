#pragma once
// A bulk submission (driver::map, driver::submit_all) as the driver's templates make it: the
// elements are encoded straight into packed ranges, each handed to rank 0's engine as soon as
// it is full, so the first range can be on a worker while the rest are still being encoded, and
// no per-task buffer is ever made.

#include <cstddef>
#include <ranges>
#include <vector>

#include "tide/detail/call.hpp"
#include "tide/detail/engine.hpp"
#include "tide/detail/packed_range.hpp"

namespace tide::detail {

template <class... P, std::ranges::input_range Range>
bulk_ids submit_bulk(engine& eng, const task_entry& entry, const Range& range) {
    if constexpr (!std::ranges::sized_range<Range>) {
        // The count decides the range size: a range that cannot tell it is read once first.
        std::vector<std::ranges::range_value_t<Range>> elements(std::ranges::begin(range),
                                                                std::ranges::end(range));
        return submit_bulk<P...>(eng, entry, elements);
    } else {
        const bulk_start bulk = eng.begin_bulk(entry, std::ranges::size(range));
        struct dropper {  // an argument that does not encode stops the submission
            engine& eng;
            const bulk_start& bulk;
            bool ended = false;
            ~dropper() {
                if (!ended) eng.drop_bulk(bulk);
            }
        } guard{eng, bulk};
        packed_writer piece;
        for (const auto& element : range) {
            append_element<P...>(entry, piece.data(), element);
            piece.end_element();
            if (piece.count() == bulk.range_size || piece.data_size() >= bulk.range_bytes)
                eng.add_range(bulk, piece.finish(false));
        }
        if (piece.count() > 0) eng.add_range(bulk, piece.finish(false));
        eng.end_bulk(bulk);
        guard.ended = true;
        return bulk.ids;
    }
}

}  // namespace tide::detail
