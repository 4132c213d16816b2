#include "exec/executor.hpp"

#include <exception>
#include <string>

#include "tide/detail/registry.hpp"
#include "tide/error.hpp"

namespace tide::detail {

namespace {
sched::outcome fail(bytes& out, std::size_t mark, sched::outcome status, const std::string& text) {
    out.resize(mark);  // drop whatever part of a result was written before the failure
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    out.insert(out.end(), p, p + text.size());
    return status;
}
}  // namespace

sched::outcome execute(std::uint64_t name_hash, std::uint64_t signature,
                       std::span<const std::byte> args, bytes& out) {
    return execute(registry::instance().by_hash(name_hash), signature, args, out);
}

sched::outcome execute(const task_entry* entry, std::uint64_t signature,
                       std::span<const std::byte> args, bytes& out) {
    const auto mark = out.size();
    if (!entry)
        return fail(out, mark, sched::outcome::unknown_task,
                    "this binary registers no task with that name");
    if (entry->sig->hash != signature)
        return fail(out, mark, sched::outcome::bad_arguments,
                    "the task is " + entry->sig->text + " but the caller used another signature");
    try {
        entry->invoke(entry->fn, args, out);
        return sched::outcome::ok;
    } catch (const payload_too_large&) {
        return fail(out, mark, sched::outcome::threw,
                    "the result is larger than the " + std::to_string(max_payload) +
                        " bytes one message can carry");
    } catch (const task_error& e) {
        out.resize(mark);
        encode_task_error(e, out);
        return sched::outcome::child_failed;
    } catch (const decode_failure&) {
        return fail(out, mark, sched::outcome::bad_arguments,
                    "the arguments do not decode as " + entry->sig->text);
    } catch (const std::exception& e) {
        return fail(out, mark, sched::outcome::threw, e.what());
    } catch (...) {
        return fail(out, mark, sched::outcome::threw,
                    "an exception not derived from std::exception");
    }
}

void encode_task_error(const task_error& e, bytes& out) {
    wire::writer w(out);
    w.u8(static_cast<std::uint8_t>(e.reason()));
    w.u32(static_cast<std::uint32_t>(e.rank()));
    w.str(e.task_name().substr(0, 65535));
    w.str(e.host().substr(0, 65535));
    w.blob({reinterpret_cast<const std::byte*>(e.message().data()), e.message().size()});
}

task_error decode_task_error(std::span<const std::byte> payload) {
    wire::reader r(payload);
    const auto kind = r.u8();
    if (kind > static_cast<std::uint8_t>(task_error::kind::worker_lost))
        throw protocol_error("tide: an encoded task error has unknown kind " +
                             std::to_string(kind));
    const auto rank = static_cast<int>(r.u32());
    auto name = r.str();
    auto host = r.str();
    const auto text = r.blob();
    r.expect_done("task error");
    return task_error(static_cast<task_error::kind>(kind), std::move(name), rank, std::move(host),
                      std::string(reinterpret_cast<const char*>(text.data()), text.size()));
}

bytes error_for_dependents(sched::outcome status, std::span<const std::byte> payload,
                           const std::string& task_name, int rank, const std::string& host) {
    if (status == sched::outcome::child_failed) return bytes(payload.begin(), payload.end());
    bytes out;
    encode_task_error(error_of(status, payload, task_name, rank, host), out);
    return out;
}

task_error error_of(sched::outcome status, std::span<const std::byte> payload,
                    const std::string& task_name, int rank, const std::string& host) {
    task_error::kind kind = task_error::kind::threw;
    switch (status) {
        case sched::outcome::child_failed:
            try {
                return decode_task_error(payload);
            } catch (const protocol_error& e) {
                return task_error(task_error::kind::protocol, task_name, rank, host, e.what());
            }
        case sched::outcome::unknown_task:
            kind = task_error::kind::unknown_task;
            break;
        case sched::outcome::bad_arguments:
            kind = task_error::kind::bad_arguments;
            break;
        case sched::outcome::protocol:
            kind = task_error::kind::protocol;
            break;
        case sched::outcome::worker_lost:
            kind = task_error::kind::worker_lost;
            break;
        default:
            break;
    }
    return task_error(kind, task_name, rank, host,
                      std::string(reinterpret_cast<const char*>(payload.data()), payload.size()));
}

}  // namespace tide::detail
