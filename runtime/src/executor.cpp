#include "executor.hpp"

#include <exception>
#include <string>

#include "tide/detail/registry.hpp"

namespace tide::detail {

namespace {
wire::result_status fail(bytes& out, std::size_t mark, wire::result_status status,
                         const std::string& text) {
    out.resize(mark);  // drop whatever part of a result was written before the failure
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    out.insert(out.end(), p, p + text.size());
    return status;
}
}  // namespace

wire::result_status execute(std::uint64_t name_hash, std::uint64_t signature,
                            std::span<const std::byte> args, bytes& out) {
    const auto mark = out.size();
    const task_entry* entry = registry::instance().by_hash(name_hash);
    if (!entry)
        return fail(out, mark, wire::result_status::unknown_task,
                    "this binary registers no task with that name");
    if (entry->sig->hash != signature)
        return fail(out, mark, wire::result_status::bad_arguments,
                    "the task is " + entry->sig->text + " but the caller used another signature");
    try {
        entry->invoke(entry->fn, args, out);
        return wire::result_status::ok;
    } catch (const payload_too_large&) {
        return fail(out, mark, wire::result_status::threw,
                    "the result is larger than the " + std::to_string(max_payload) +
                        " bytes one message can carry");
    } catch (const decode_failure&) {
        return fail(out, mark, wire::result_status::bad_arguments,
                    "the arguments do not decode as " + entry->sig->text);
    } catch (const std::exception& e) {
        return fail(out, mark, wire::result_status::threw, e.what());
    } catch (...) {
        return fail(out, mark, wire::result_status::threw,
                    "an exception not derived from std::exception");
    }
}

}  // namespace tide::detail
