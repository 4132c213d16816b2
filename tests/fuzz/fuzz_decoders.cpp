#include "fuzz_decoders.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "journal/format.hpp"
#include "protocol/wire.hpp"
#include "tide/detail/packed_range.hpp"
#include "tide/detail/serialize.hpp"
#include "tide/error.hpp"

namespace tide::fuzz {

namespace {

using detail::bytes;
namespace wire = tide::wire;

// Argument types a task might take: strings, nested containers, maps, optionals.
using args_a = std::tuple<std::vector<std::string>, std::map<int, double>>;
using args_b = std::tuple<std::vector<std::vector<std::int64_t>>, std::string, bool>;
constexpr std::uint8_t args_a_selector = 100;
constexpr std::uint8_t args_b_selector = 101;
constexpr std::uint8_t packed_selector = 103;  // a packed range (bulk submissions)
constexpr std::uint8_t journal_selector =
    102;  // a journal file (--tide-journal) as rank 0 loads it

[[noreturn]] void finding(const char* what) {
    std::fprintf(stderr, "fuzz finding: %s\n", what);
    std::abort();
}

std::vector<std::byte> as_vector(std::span<const std::byte> s) { return {s.begin(), s.end()}; }

template <class M>
void round_trip(std::span<const std::byte> body) {
    const M m = wire::decode<M>(body);
    const bytes again = wire::encode(m);
    if (as_vector(body) != again) finding("a small message re-encodes differently");
}

void task_batch(std::span<const std::byte> body) {
    std::vector<wire::task_view> tasks;
    const auto h = wire::decode_task_batch(body, tasks);
    if (h.count != tasks.size()) finding("task_batch count differs from its tasks");
    bytes again;
    wire::task_batch_writer w(again, h.seq);
    for (const auto& t : tasks) w.add(t.id, t.name_hash, t.signature, t.args, t.keep, t.range);
    if (as_vector(body) != again) finding("a task_batch re-encodes differently");
}

// A packed range (a bulk submission's arguments or results): every element inside the buffer,
// and written again element by element, it reads back the same.
void packed_range(std::span<const std::byte> body) {
    const detail::packed_view view(body);
    detail::packed_writer again;
    for (std::uint32_t i = 0; i < view.size(); ++i) {
        const auto e = view.at(i);
        if (e.data() < body.data() || e.data() + e.size() > body.data() + body.size())
            finding("a packed range's element outside its buffer");
        again.data().insert(again.data().end(), e.begin(), e.end());
        again.end_element(view.status(i));
    }
    const bytes packed = again.finish(true);
    const detail::packed_view reread(packed);
    if (reread.size() != view.size()) finding("a packed range re-packs to another count");
    for (std::uint32_t i = 0; i < view.size(); ++i)
        if (as_vector(reread.at(i)) != as_vector(view.at(i)) || reread.status(i) != view.status(i))
            finding("a packed range's element re-packs differently");
}

void results(std::span<const std::byte> body, bool child) {
    std::vector<wire::result_view> out;
    if (child)
        wire::decode_child_results(body, out);
    else
        wire::decode_result_batch(body, out);
    for (const auto& r : out)
        if (r.payload.data() < body.data() ||
            r.payload.data() + r.payload.size() > body.data() + body.size())
            finding("a result's payload points outside its message");
}

void stolen(std::span<const std::byte> body) {
    const auto v = wire::decode_stolen(body);
    for (const auto& t : v.lent)
        if (t.args.data() < body.data() ||
            t.args.data() + t.args.size() > body.data() + body.size())
            finding("a lent task's arguments point outside their message");
}

// Every entry reads back and writes again to the same bytes.
void spans(std::span<const std::byte> body) {
    const auto v = wire::decode_spans(body);
    bytes again;
    wire::spans_writer w(again);
    for (std::size_t i = 0; i < v.count; ++i) w.add(wire::span_at(v.entries, i));
    w.set_sent_at(v.sent_at);
    if (!std::equal(again.begin(), again.end(), body.begin(), body.end()))
        finding("a spans message does not re-encode to its own bytes");
}

// What decodes encodes to bytes that decode and encode to the same bytes again (bytes, not
// values: a NaN is not equal to itself, and a map collapses duplicate keys).
template <class T>
bytes encoded(const T& value) {
    bytes out;
    std::apply([&](const auto&... v) { detail::append_values(out, v...); }, value);
    return out;
}
template <class T>
void arguments(std::span<const std::byte> body) {
    const bytes once = encoded(detail::read_value<T>(body));
    if (encoded(detail::read_value<T>(once)) != once)
        finding("arguments do not survive a round trip");
}

// A journal file's bytes, read as rank 0 reads them: the header, then a scan of the records.
// Whatever the bytes, every record found lies inside the file where the scan says, reads again
// at its offset, follows the one before, and records, damage and torn tail account for every
// byte after the header. True if the header reads.
bool journal(std::span<const std::byte> file) {
    namespace jf = detail::journal_format;
    std::size_t start = 0;
    bool header_read = true;
    try {
        (void)jf::read_header(file, start);
    } catch (const jf::format_error&) {
        header_read = false;
        start = 0;
    }
    std::uint64_t record_bytes = 0;
    std::size_t last_end = start;
    const auto s = jf::scan(file, start, [&](const jf::record_view& r, std::size_t at) {
        if (at < last_end) finding("journal records overlap");
        if (at + r.size() > file.size() ||
            r.payload.data() != file.data() + at + jf::record_head_size)
            finding("a journal record outside the file");
        const auto again = jf::read_record(file, at);
        if (!again || again->key != r.key || again->payload.size() != r.payload.size())
            finding("a journal record reads differently at its offset");
        record_bytes += r.size();
        last_end = at + r.size();
    });
    if (s.good_end > file.size() || s.good_end < last_end ||
        record_bytes + s.damaged_bytes + s.torn_bytes != file.size() - start)
        finding("the journal scan does not account for every byte");
    return header_read;
}

}  // namespace

bool decode_one(std::uint8_t selector, std::span<const std::byte> body) {
    try {
        switch (selector) {
            case static_cast<int>(wire::msg::hello):
                round_trip<wire::hello>(body);
                break;
            case static_cast<int>(wire::msg::task_batch):
                task_batch(body);
                break;
            case static_cast<int>(wire::msg::result_batch):
                results(body, false);
                break;
            case static_cast<int>(wire::msg::batch_rejected):
                round_trip<wire::batch_rejected>(body);
                break;
            case static_cast<int>(wire::msg::goodbye):
                round_trip<wire::goodbye>(body);
                break;
            case static_cast<int>(wire::msg::status):
                round_trip<wire::status>(body);
                break;
            case static_cast<int>(wire::msg::steal_request):
                round_trip<wire::steal_request>(body);
                break;
            case static_cast<int>(wire::msg::steal_order):
                round_trip<wire::steal_order>(body);
                break;
            case static_cast<int>(wire::msg::lent_forecast):
                round_trip<wire::lent_forecast>(body);
                break;
            case static_cast<int>(wire::msg::pending_batch):
                round_trip<wire::pending_batch>(body);
                break;
            case static_cast<int>(wire::msg::input_forward):
                round_trip<wire::input_forward>(body);
                break;
            case static_cast<int>(wire::msg::pending_bounced):
                round_trip<wire::pending_bounced>(body);
                break;
            case static_cast<int>(wire::msg::fetch_results):
                round_trip<wire::fetch_results>(body);
                break;
            case static_cast<int>(wire::msg::fetched_results):
                round_trip<wire::fetched_results>(body);
                break;
            case static_cast<int>(wire::msg::release_results):
                round_trip<wire::release_results>(body);
                break;
            case static_cast<int>(wire::msg::stolen):
                stolen(body);
                break;
            case static_cast<int>(wire::msg::child_results):
                results(body, true);
                break;
            case static_cast<int>(wire::msg::topology):
                round_trip<wire::topology>(body);
                break;
            case static_cast<int>(wire::msg::bind):
                round_trip<wire::bind>(body);
                break;
            case static_cast<int>(wire::msg::bound):
                round_trip<wire::bound>(body);
                break;
            case static_cast<int>(wire::msg::shutdown):
                round_trip<wire::shutdown>(body);
                break;
            case static_cast<int>(wire::msg::spans):
                spans(body);
                break;
            case static_cast<int>(wire::msg::park):
            case static_cast<int>(wire::msg::wake):
            case static_cast<int>(wire::msg::heartbeat):
            case static_cast<int>(wire::msg::tracing):
                (void)wire::decode<wire::park>(body);  // all four: no body
                break;
            case args_a_selector:
                arguments<args_a>(body);
                break;
            case args_b_selector:
                arguments<args_b>(body);
                break;
            case packed_selector:
                packed_range(body);
                break;
            case journal_selector:
                return journal(body);
            default:
                return false;  // an unknown tag: the runtime counts a protocol error
        }
        return true;
    } catch (const protocol_error&) {
        return false;
    } catch (const detail::decode_failure&) {
        return false;
    }
}

std::vector<std::pair<std::uint8_t, std::vector<std::byte>>> seed_messages() {
    std::vector<std::pair<std::uint8_t, std::vector<std::byte>>> seeds;
    const auto add = [&](wire::msg tag, bytes body) {
        seeds.emplace_back(static_cast<std::uint8_t>(tag), std::move(body));
    };
    const std::vector<std::byte> args{std::byte{1}, std::byte{2}, std::byte{3}};
    add(wire::msg::hello, wire::encode(wire::hello{wire::protocol_version, 4242, "node07"}));
    {
        bytes b;
        wire::task_batch_writer w(b, 7);
        w.add(1, 0x1111, 0x2222, args, true);
        w.add(2, 0x1111, 0x2222, {}, false);
        detail::packed_writer range;
        for (int i = 0; i < 3; ++i) {
            range.data().insert(range.data().end(), args.begin(), args.begin() + i);
            range.end_element(static_cast<std::uint8_t>(i % 2));
        }
        const bytes packed = range.finish(true);
        w.add(3, 0x1111, 0x2222, packed, false, true);
        add(wire::msg::task_batch, std::move(b));
        seeds.emplace_back(packed_selector, packed);
    }
    {
        bytes b;
        wire::result_batch_writer w(b);
        w.begin_result(1);
        w.buffer().insert(w.buffer().end(), args.begin(), args.end());
        w.end_result(sched::outcome::ok);
        w.begin_result(2);
        w.end_result(sched::outcome::threw);
        w.add_kept(3, 1 << 20);
        w.set_in_hand(3);
        add(wire::msg::result_batch, std::move(b));
    }
    add(wire::msg::batch_rejected, wire::encode(wire::batch_rejected{7, "bad frame"}));
    add(wire::msg::goodbye, wire::encode(wire::goodbye{10, 1, 0, 0.5, 0.25}));
    {
        wire::status s;
        s.queued = 3;
        s.unstarted = 2;
        s.executed = 5;
        s.busy = 0.25;
        s.span = 0.5;
        s.durations.push_back({0x1111, 5, 0.25, 0.0125});
        add(wire::msg::status, wire::encode(std::move(s)));
    }
    add(wire::msg::steal_request, wire::encode(wire::steal_request{3, 5}));
    add(wire::msg::steal_order, wire::encode(wire::steal_order{9, 2}));
    add(wire::msg::lent_forecast, wire::encode(wire::lent_forecast{{{4, 0.01, 1e-6}}}));
    add(wire::msg::pending_batch,
        wire::encode(
            wire::pending_batch{5, 1, {{77, 0x1111, 0x2222, args, {{3, 70, 1}, {~0ull, 71, 0}}}}}));
    add(wire::msg::input_forward, wire::encode(wire::input_forward{{{77, 71, 0, args}}}));
    add(wire::msg::pending_bounced, wire::encode(wire::pending_bounced{{77, 78}}));
    add(wire::msg::fetch_results, wire::encode(wire::fetch_results{{77}}));
    add(wire::msg::fetched_results,
        wire::encode(wire::fetched_results{{{77, 1, args}, {78, 0, {}}}}));
    add(wire::msg::release_results, wire::encode(wire::release_results{{77, 78}}));
    {
        bytes b;
        wire::stolen_head head;
        head.order = 9;
        head.returned = {4, 5};
        head.parents = {3};
        wire::stolen_writer w(b, std::move(head));
        w.add(77, 0x1111, 0x2222, args);
        w.set_queued(1);
        add(wire::msg::stolen, std::move(b));
    }
    {
        bytes b;
        wire::child_results_writer w(b, 2, "node07");
        w.add(77, sched::outcome::worker_lost, args);
        add(wire::msg::child_results, std::move(b));
    }
    {
        wire::topology t;
        t.summary = "1 package, 2 cores";
        t.given = "0-1";
        t.cores.push_back({0, "0", 0, 0});
        t.cores.push_back({1, "1", 0, 0});
        add(wire::msg::topology, wire::encode(std::move(t)));
    }
    add(wire::msg::bind, wire::encode(wire::bind{"1"}));
    add(wire::msg::bound, wire::encode(wire::bound{1, "1", ""}));
    add(wire::msg::heartbeat, {});
    add(wire::msg::tracing, {});
    {
        bytes b;
        wire::spans_writer w(b);
        w.add({3, 7, 1.0, 0.5});
        w.add({4, 7, 1.5, 0.25});
        w.set_sent_at(2.5);
        add(wire::msg::spans, std::move(b));
    }
    add(wire::msg::shutdown, wire::encode(wire::shutdown{1}));
    {
        bytes b;
        detail::append_values(b, std::vector<std::string>{"a", "bc"},
                              std::map<int, double>{{1, 0.5}, {2, 1.5}});
        seeds.emplace_back(args_a_selector, std::move(b));
    }
    {
        bytes b;
        detail::append_values(b, std::vector<std::vector<std::int64_t>>{{1, 2}, {3}},
                              std::string("x"), true);
        seeds.emplace_back(args_b_selector, std::move(b));
    }
    {
        namespace jf = detail::journal_format;
        bytes b;
        jf::append_header(b, {1, 2, "program", "salt"});
        for (const char* result : {"one", "two", ""}) {
            const auto r = std::as_bytes(std::span(result, std::strlen(result)));
            jf::append_record(b, jf::key_of(3, r, 4), r);
        }
        seeds.emplace_back(journal_selector, std::move(b));
    }
    return seeds;
}

}  // namespace tide::fuzz
