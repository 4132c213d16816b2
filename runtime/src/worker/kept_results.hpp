#pragma once
// The results this worker keeps instead of sending them to rank 0 (--tide-keep-results): a
// result of at least the threshold, of a task rank 0 marked `keep` (the driver's tasks, not
// nested tasks lent by a steal, and none while a journal wants every result). The graph tasks
// that take it here (sent ahead, see pending_tasks) read it from here; rank 0 fetches it for
// get() or a task on another worker, and releases it once nothing needs it. A result the
// worker takes with it when it ends or dies is made again by rank 0 (lineage).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>

#include "tide/detail/serialize.hpp"

namespace tide::detail {

class kept_results {
public:
    explicit kept_results(std::size_t threshold) : threshold_(threshold) {}

    // Whether a successful result of `size` bytes of a task marked `keep` stays here.
    bool keeps(bool keep, std::size_t size) const {
        return keep && threshold_ > 0 && size >= threshold_;
    }
    void put(std::uint64_t id, bytes result) {
        bytes_ += result.size();
        auto [it, added] = results_.try_emplace(id, std::move(result));
        if (!added) {  // the same task again: the newer result replaces the older
            bytes_ -= it->second.size();
            it->second = std::move(result);
        }
    }
    std::optional<std::span<const std::byte>> find(std::uint64_t id) const {
        const auto it = results_.find(id);
        if (it == results_.end()) return std::nullopt;
        return std::span<const std::byte>(it->second);
    }
    // The result leaves this worker (fetched by rank 0, or no longer needed).
    std::optional<bytes> take(std::uint64_t id) {
        const auto it = results_.find(id);
        if (it == results_.end()) return std::nullopt;
        bytes out = std::move(it->second);
        bytes_ -= out.size();
        results_.erase(it);
        return out;
    }
    std::size_t count() const { return results_.size(); }
    std::size_t bytes_held() const { return bytes_; }  // for the worker's last words

private:
    std::size_t threshold_;
    std::unordered_map<std::uint64_t, bytes> results_;
    std::size_t bytes_ = 0;
};

}  // namespace tide::detail
