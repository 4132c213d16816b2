#include "protocol/wire.hpp"

#include "tide/detail/packed_range.hpp"

#include <cstring>
#include <limits>

namespace tide::wire {

// ---- writer ----------------------------------------------------------------------------------

void writer::put(const void* p, std::size_t n) {
    // insert, not resize + memcpy: resize would zero the bytes first.
    const auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
}

void writer::str(std::string_view s) {
    if (s.size() > std::numeric_limits<std::uint16_t>::max())
        throw protocol_error("tide: string of " + std::to_string(s.size()) +
                             " bytes is too long for the wire (65535 at most)");
    u16(static_cast<std::uint16_t>(s.size()));
    put(s.data(), s.size());
}

void writer::blob(std::span<const std::byte> data) {
    if (data.size() > std::numeric_limits<std::uint32_t>::max())
        throw protocol_error("tide: payload of " + std::to_string(data.size()) +
                             " bytes is too large for one task (4 GiB at most)");
    u32(static_cast<std::uint32_t>(data.size()));
    put(data.data(), data.size());
}

std::size_t writer::reserve_u32() {
    const auto at = out_.size();
    u32(0);
    return at;
}

void writer::patch_u32(std::size_t at, std::uint32_t v) { std::memcpy(out_.data() + at, &v, 4); }

// ---- reader ----------------------------------------------------------------------------------

void reader::get(void* p, std::size_t n) {
    if (n > remaining())
        throw protocol_error("tide: message truncated: needed " + std::to_string(n) +
                             " more bytes at offset " + std::to_string(pos_) + ", have " +
                             std::to_string(remaining()));
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
}

std::string reader::str() {
    const auto n = u16();
    if (n > remaining())
        throw protocol_error("tide: string length " + std::to_string(n) + " exceeds the " +
                             std::to_string(remaining()) + " bytes left in the message");
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
}

std::span<const std::byte> reader::blob() {
    const auto n = u32();
    if (n > remaining())
        throw protocol_error("tide: payload length " + std::to_string(n) + " exceeds the " +
                             std::to_string(remaining()) + " bytes left in the message");
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
}

void reader::expect_done(const char* what) const {
    if (!done())
        throw protocol_error(std::string("tide: ") + what + " message has " +
                             std::to_string(remaining()) + " unexpected trailing bytes");
}

// ---- messages --------------------------------------------------------------------------------

task_batch_writer::task_batch_writer(bytes& out, std::uint64_t seq) : w_(out) {
    w_.u64(seq);
    count_at_ = w_.reserve_u32();
}

void task_batch_writer::add(std::uint64_t id, std::uint64_t name_hash, std::uint64_t signature,
                            std::span<const std::byte> args, bool keep, bool range) {
    w_.u64(id);
    w_.u64(name_hash);
    w_.u64(signature);
    w_.u8(static_cast<std::uint8_t>((keep ? task_keep : 0) | (range ? task_range : 0)));
    w_.blob(args);
    w_.patch_u32(count_at_, ++count_);
}

task_batch_header decode_task_batch(std::span<const std::byte> body, std::vector<task_view>& out) {
    reader r(body);
    task_batch_header h;
    h.seq = r.u64();
    h.count = r.u32();
    // A count larger than the frame can hold is a lie, and must not drive a huge reserve().
    if (h.count > r.remaining() / task_entry_framing)
        throw protocol_error("tide: task_batch claims " + std::to_string(h.count) +
                             " tasks but has only " + std::to_string(r.remaining()) + " bytes");
    out.clear();
    out.reserve(h.count);
    for (std::uint32_t i = 0; i < h.count; ++i) {
        task_view t;
        t.id = r.u64();
        t.name_hash = r.u64();
        t.signature = r.u64();
        const auto flags = r.u8();
        if (flags > (task_keep | task_range))
            throw protocol_error("tide: task_batch has flags " + std::to_string(flags));
        t.keep = (flags & task_keep) != 0;
        t.range = (flags & task_range) != 0;
        t.args = r.blob();
        if (t.range) detail::packed_view{t.args};  // throws for a malformed range
        out.push_back(t);
    }
    r.expect_done("task_batch");
    return h;
}

bool peek_batch_seq(std::span<const std::byte> body, std::uint64_t& seq) {
    if (body.size() < 8) return false;
    std::memcpy(&seq, body.data(), 8);
    return true;
}

result_batch_writer::result_batch_writer(bytes& out) : w_(out) {
    in_hand_at_ = w_.reserve_u32();
    count_at_ = w_.reserve_u32();
}

void result_batch_writer::begin_result(std::uint64_t id) {
    w_.u64(id);
    status_at_ = w_.size();
    w_.u8(0);
    len_at_ = w_.reserve_u32();
}

void result_batch_writer::end_result(sched::outcome status) {
    const auto len = w_.size() - len_at_ - 4;
    if (len > std::numeric_limits<std::uint32_t>::max())
        throw protocol_error("tide: a task result of " + std::to_string(len) +
                             " bytes is too large (4 GiB at most)");
    w_.buffer()[status_at_] = static_cast<std::byte>(status);
    w_.patch_u32(len_at_, static_cast<std::uint32_t>(len));
    w_.patch_u32(count_at_, ++count_);
}

void result_batch_writer::add_kept(std::uint64_t id, std::uint64_t size) {
    begin_result(id);
    w_.u64(size);
    end_result(sched::outcome::ok);
    w_.buffer()[status_at_] |= static_cast<std::byte>(kept_flag);
}

void result_batch_writer::set_in_hand(std::uint32_t in_hand) { w_.patch_u32(in_hand_at_, in_hand); }

namespace {
// The entries of a result_batch or child_results, up to `highest` status; kept results only
// if `kept_allowed`.
void read_results(reader& r, std::uint32_t count, sched::outcome highest, bool kept_allowed,
                  std::vector<result_view>& out, const char* what) {
    if (count > r.remaining() / result_entry_framing)
        throw protocol_error(std::string("tide: ") + what + " claims " + std::to_string(count) +
                             " results but has only " + std::to_string(r.remaining()) + " bytes");
    out.clear();
    out.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        result_view v;
        v.id = r.u64();
        const auto byte = r.u8();
        const bool kept = kept_allowed && (byte & kept_flag) != 0;
        const auto status = kept ? static_cast<std::uint8_t>(byte & ~kept_flag) : byte;
        if (status > static_cast<std::uint8_t>(highest) ||
            (kept && status != static_cast<std::uint8_t>(sched::outcome::ok)))
            throw protocol_error(std::string("tide: ") + what + " has unknown status " +
                                 std::to_string(byte));
        v.status = static_cast<sched::outcome>(status);
        v.payload = r.blob();
        if (kept) {
            if (v.payload.size() != 8)
                throw protocol_error(std::string("tide: ") + what + " has a kept result of " +
                                     std::to_string(v.payload.size()) + " bytes (8 expected)");
            std::uint64_t size = 0;
            std::memcpy(&size, v.payload.data(), 8);
            v.kept = size;
            v.payload = v.payload.first(0);  // empty, still within the message
        }
        out.push_back(v);
    }
    r.expect_done(what);
}
}  // namespace

result_batch_header decode_result_batch(std::span<const std::byte> body,
                                        std::vector<result_view>& out) {
    reader r(body);
    result_batch_header h;
    h.in_hand = r.u32();
    h.count = r.u32();
    read_results(r, h.count, sched::outcome::child_failed, true, out, "result_batch");
    return h;
}

child_results_writer::child_results_writer(bytes& out, std::uint32_t rank, std::string_view host)
    : w_(out) {
    w_.u32(rank);
    w_.str(host);
    count_at_ = w_.reserve_u32();
}

void child_results_writer::add(std::uint64_t token, sched::outcome status,
                               std::span<const std::byte> payload) {
    w_.u64(token);
    w_.u8(static_cast<std::uint8_t>(status));
    w_.blob(payload);
    w_.patch_u32(count_at_, ++count_);
}

child_results_header decode_child_results(std::span<const std::byte> body,
                                          std::vector<result_view>& out) {
    reader r(body);
    child_results_header h;
    h.rank = r.u32();
    h.host = r.str();
    read_results(r, r.u32(), sched::outcome::worker_lost, false, out, "child_results");
    return h;
}

namespace {
// Writes the head and says where its `queued` field is.
std::size_t write_stolen_head(bytes& out, stolen_head& head) {
    writer w(out);
    const auto queued_at = out.size() + sizeof head.order;
    head.fields(w);
    return queued_at;
}
}  // namespace

stolen_writer::stolen_writer(bytes& out, stolen_head head)
    : queued_at_(write_stolen_head(out, head)), out_(out), lent_(out, head.order) {}

void stolen_writer::set_queued(std::uint32_t queued) { writer(out_).patch_u32(queued_at_, queued); }

stolen_view decode_stolen(std::span<const std::byte> body) {
    reader r(body);
    stolen_view v;
    v.head.fields(r);
    const auto batch = decode_task_batch(r.rest(), v.lent);
    if (v.head.parents.size() != v.lent.size())
        throw protocol_error("tide: stolen message names " + std::to_string(v.head.parents.size()) +
                             " parents for " + std::to_string(v.lent.size()) + " lent tasks");
    if (batch.seq != v.head.order)
        throw protocol_error("tide: stolen message answers order " + std::to_string(v.head.order) +
                             " but its tasks are marked " + std::to_string(batch.seq));
    return v;
}

spans_writer::spans_writer(bytes& out) : w_(out) {
    sent_at_ = w_.size();
    w_.f64(0);
    count_at_ = w_.reserve_u32();
}

void write_span_entry(bytes& out, const span_report& s) {
    writer w(out);
    w.u64(s.id);
    w.u64(s.name);
    w.f64(s.start);
    w.f64(s.seconds);
}

void spans_writer::add(const span_report& s) {
    write_span_entry(w_.buffer(), s);
    w_.patch_u32(count_at_, ++count_);
}

void spans_writer::set_sent_at(double sent_at) {
    std::memcpy(w_.buffer().data() + sent_at_, &sent_at, sizeof sent_at);
}

spans_view decode_spans(std::span<const std::byte> body) {
    reader r(body);
    spans_view v;
    v.sent_at = r.f64();
    v.count = r.u32();
    if (r.remaining() != std::size_t{v.count} * span_entry_size)
        throw protocol_error("tide: spans message claims " + std::to_string(v.count) +
                             " spans in " + std::to_string(r.remaining()) + " bytes");
    v.entries = r.rest();
    return v;
}

span_report span_at(std::span<const std::byte> entries, std::size_t i) {
    reader r(entries.subspan(i * span_entry_size, span_entry_size));
    span_report s;
    s.id = r.u64();
    s.name = r.u64();
    s.start = r.f64();
    s.seconds = r.f64();
    return s;
}

}  // namespace tide::wire
