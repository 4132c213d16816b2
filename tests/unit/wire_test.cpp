// The wire codec: round trips, and every kind of malformed frame rejected with protocol_error
// (never a crash, never an out-of-bounds read — run under ASan to see the latter).

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "protocol/wire.hpp"

using namespace tide;
using namespace tide::wire;
using tide::sched::outcome;

namespace {
bytes some_bytes(std::size_t n, int seed) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
    return b;
}

bytes sample_task_batch() {
    bytes buf;
    task_batch_writer w(buf, 77);
    w.add(1, 100, 200, some_bytes(5, 1), false);
    w.add(2, 101, 201, {}, true);
    w.add(3, 102, 202, some_bytes(300, 2), false);
    return buf;
}

bytes sample_result_batch() {
    bytes buf;
    result_batch_writer w(buf);
    w.begin_result(9);
    auto payload = some_bytes(17, 3);
    buf.insert(buf.end(), payload.begin(), payload.end());
    w.end_result(outcome::ok);
    w.begin_result(10);
    const std::string text = "boom";
    for (char c : text) buf.push_back(static_cast<std::byte>(c));
    w.end_result(outcome::threw);
    w.set_in_hand(42);
    return buf;
}
}  // namespace

TEST(Wire, TaskBatchRoundTrip) {
    const auto buf = sample_task_batch();
    std::vector<task_view> tasks;
    const auto h = decode_task_batch(buf, tasks);
    EXPECT_EQ(h.seq, 77u);
    ASSERT_EQ(h.count, 3u);
    ASSERT_EQ(tasks.size(), 3u);
    EXPECT_EQ(tasks[0].id, 1u);
    EXPECT_EQ(tasks[0].name_hash, 100u);
    EXPECT_EQ(tasks[0].signature, 200u);
    EXPECT_EQ(bytes(tasks[0].args.begin(), tasks[0].args.end()), some_bytes(5, 1));
    EXPECT_TRUE(tasks[1].args.empty());
    EXPECT_EQ(bytes(tasks[2].args.begin(), tasks[2].args.end()), some_bytes(300, 2));
    EXPECT_EQ((std::vector<bool>{tasks[0].keep, tasks[1].keep, tasks[2].keep}),
              (std::vector<bool>{false, true, false}));
    // `keep` is 0 or 1.
    auto bad = buf;
    bad[8 + 4 + 24] = std::byte{2};
    EXPECT_THROW(decode_task_batch(bad, tasks), protocol_error);
}

TEST(Wire, ResultBatchRoundTrip) {
    const auto buf = sample_result_batch();
    std::vector<result_view> results;
    const auto h = decode_result_batch(buf, results);
    EXPECT_EQ(h.in_hand, 42u);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].id, 9u);
    EXPECT_EQ(results[0].status, outcome::ok);
    EXPECT_EQ(bytes(results[0].payload.begin(), results[0].payload.end()), some_bytes(17, 3));
    EXPECT_EQ(results[1].status, outcome::threw);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(results[1].payload.data()),
                          results[1].payload.size()),
              "boom");
}

TEST(Wire, SmallMessagesRoundTrip) {
    const auto h = decode<hello>(encode(hello{protocol_version, 1234, "node-7"}));
    EXPECT_EQ(h.version, protocol_version);
    EXPECT_EQ(h.pid, 1234u);
    EXPECT_EQ(h.host, "node-7");
    const auto g = decode<goodbye>(encode(goodbye{5, 6, 7, 1.5, 0.75}));
    EXPECT_EQ(g.busy_seconds, 0.75);
    EXPECT_EQ(g.executed, 5u);
    EXPECT_EQ(g.dropped, 6u);
    EXPECT_EQ(g.protocol_errors, 7u);
    EXPECT_DOUBLE_EQ(g.cpu_seconds, 1.5);
    const auto r = decode<batch_rejected>(encode(batch_rejected{99, "bad"}));
    EXPECT_EQ(r.seq, 99u);
    EXPECT_EQ(r.reason, "bad");
    EXPECT_NO_THROW(decode<park>({}));
}

// Every proper prefix of a valid frame is truncated and must be rejected.
TEST(Wire, EveryTruncationIsRejected) {
    std::vector<task_view> tasks;
    std::vector<result_view> results;
    const auto tb = sample_task_batch();
    for (std::size_t n = 0; n < tb.size(); ++n)
        EXPECT_THROW(decode_task_batch(std::span(tb).first(n), tasks), protocol_error) << n;
    const auto rb = sample_result_batch();
    for (std::size_t n = 0; n < rb.size(); ++n)
        EXPECT_THROW(decode_result_batch(std::span(rb).first(n), results), protocol_error) << n;
    const auto he = encode(hello{protocol_version, 1, "host"});
    for (std::size_t n = 0; n < he.size(); ++n)
        EXPECT_THROW(decode<hello>(std::span(he).first(n)), protocol_error) << n;
    const auto gb = encode(goodbye{});
    for (std::size_t n = 0; n < gb.size(); ++n)
        EXPECT_THROW(decode<goodbye>(std::span(gb).first(n)), protocol_error) << n;
}

TEST(Wire, TrailingBytesAreRejected) {
    std::vector<task_view> tasks;
    auto tb = sample_task_batch();
    tb.push_back(std::byte{0});
    EXPECT_THROW(decode_task_batch(tb, tasks), protocol_error);
    auto he = encode(hello{});
    he.push_back(std::byte{1});
    EXPECT_THROW(decode<hello>(he), protocol_error);
    EXPECT_THROW(decode<heartbeat>(some_bytes(1, 0)), protocol_error);
}

TEST(Wire, LyingCountIsRejectedWithoutHugeAllocation) {
    bytes buf;
    writer w(buf);
    w.u64(1);
    w.u32(0xffffffffu);  // four billion tasks in a 12-byte frame
    std::vector<task_view> tasks;
    EXPECT_THROW(decode_task_batch(buf, tasks), protocol_error);
    bytes rb;
    writer r(rb);
    r.u32(0);
    r.u32(0x7fffffffu);
    std::vector<result_view> results;
    EXPECT_THROW(decode_result_batch(rb, results), protocol_error);
}

TEST(Wire, LyingLengthIsRejected) {
    bytes buf;
    task_batch_writer w(buf, 1);
    w.add(1, 2, 3, some_bytes(10, 0), false);
    // Patch the blob length (after seq, count, id, name, sig, keep) to claim more than is there.
    const std::uint32_t lie = 1000;
    std::memcpy(buf.data() + 8 + 4 + 24 + 1, &lie, 4);
    std::vector<task_view> tasks;
    EXPECT_THROW(decode_task_batch(buf, tasks), protocol_error);
}

TEST(Wire, UnknownResultStatusIsRejected) {
    auto rb = sample_result_batch();
    rb[8 + 8] = std::byte{200};  // status byte of the first result
    std::vector<result_view> results;
    EXPECT_THROW(decode_result_batch(rb, results), protocol_error);
}

// Random bytes and random mutations of valid frames: decoding either succeeds or throws
// protocol_error; anything else (a crash, another exception) fails the test.
TEST(Wire, RandomGarbageNeverCrashes) {
    std::mt19937 rng(2024);
    std::vector<task_view> tasks;
    std::vector<result_view> results;
    const auto tb = sample_task_batch();
    const auto rb = sample_result_batch();
    for (int i = 0; i < 20000; ++i) {
        bytes b =
            (i % 3 == 0) ? some_bytes(rng() % 64, static_cast<int>(rng())) : (i % 3 == 1 ? tb : rb);
        for (int k = 0, flips = 1 + static_cast<int>(rng() % 4); k < flips && !b.empty(); ++k)
            b[rng() % b.size()] = static_cast<std::byte>(rng());
        if (!b.empty() && rng() % 2) b.resize(rng() % b.size());
        try {
            decode_task_batch(b, tasks);
        } catch (const protocol_error&) {
        }
        try {
            decode_result_batch(b, results);
        } catch (const protocol_error&) {
        }
        try {
            decode<hello>(b);
        } catch (const protocol_error&) {
        }
    }
}

TEST(Wire, StatusRoundTrip) {
    status s;
    s.queued = 3;
    s.unstarted = 4;
    s.executed = 5;
    s.busy = 0.25;
    s.span = 0.5;
    s.durations = {{11, 2, 0.1, 0.005}, {12, 1, 1.0, 1.0}};
    const auto back = decode<status>(encode(s));
    EXPECT_EQ(back.queued, 3u);
    EXPECT_EQ(back.unstarted, 4u);
    EXPECT_EQ(back.executed, 5u);
    EXPECT_EQ(back.busy, 0.25);
    ASSERT_EQ(back.durations.size(), 2u);
    EXPECT_EQ(back.durations[1].name, 12u);
    EXPECT_EQ(back.durations[0].sum_of_squares, 0.005);
}

TEST(Wire, StatusWithALyingListCountIsRejected) {
    status s;
    s.durations = {{1, 1, 1, 1}};
    auto buf = encode(s);
    const std::uint32_t lie = 1u << 30;
    std::memcpy(buf.data() + 4 + 4 + 8 + 8 + 8, &lie, 4);  // the list's count
    EXPECT_THROW(decode<status>(buf), protocol_error);
    buf.resize(buf.size() - 1);
    EXPECT_THROW(decode<status>(buf), protocol_error);
}

TEST(Wire, StolenRoundTrip) {
    bytes buf;
    stolen_head head;
    head.order = 5;
    head.returned = {40, 41};
    head.parents = {7, 0};
    stolen_writer w(buf, head);
    w.add(900, 1, 2, some_bytes(10, 4));
    w.add(901, 1, 2, {});
    w.set_queued(6);
    EXPECT_EQ(w.lent(), 2u);
    const auto v = decode_stolen(buf);
    EXPECT_EQ(v.head.order, 5u);
    EXPECT_EQ(v.head.queued, 6u);
    EXPECT_EQ(v.head.returned, (std::vector<std::uint64_t>{40, 41}));
    EXPECT_EQ(v.head.parents, (std::vector<std::uint64_t>{7, 0}));
    ASSERT_EQ(v.lent.size(), 2u);
    EXPECT_EQ(v.lent[0].id, 900u);
    EXPECT_EQ(bytes(v.lent[0].args.begin(), v.lent[0].args.end()), some_bytes(10, 4));
    for (std::size_t cut = 0; cut < buf.size(); ++cut)
        EXPECT_THROW(decode_stolen(std::span<const std::byte>(buf).first(cut)), protocol_error)
            << cut;
}

TEST(Wire, StolenWhoseTasksAnswerAnotherOrderIsRejected) {
    bytes buf;
    stolen_head head;
    head.order = 5;
    head.parents = {0};
    stolen_writer w(buf, head);
    w.add(1, 1, 1, {});
    std::uint64_t other = 6;
    std::memcpy(buf.data() + 8 + 4 + 4 + 4 + 8, &other, 8);  // the batch's sequence number
    EXPECT_THROW(decode_stolen(buf), protocol_error);
}

TEST(Wire, StolenWithAParentPerLentTaskOnly) {
    for (const std::vector<std::uint64_t>& parents :
         {std::vector<std::uint64_t>{}, std::vector<std::uint64_t>{3, 4}}) {
        bytes buf;
        stolen_head head;
        head.order = 5;
        head.parents = parents;
        stolen_writer w(buf, head);
        w.add(1, 1, 1, {});
        EXPECT_THROW(decode_stolen(buf), protocol_error) << parents.size() << " parents";
    }
}

TEST(Wire, SpansRoundTripAndLengthChecked) {
    bytes buf;
    spans_writer w(buf);
    w.add({3, 9, 10.25, 0.5});
    w.add({4, 9, 10.75, 1.25});
    w.set_sent_at(12.5);
    const auto v = decode_spans(buf);
    EXPECT_EQ(v.sent_at, 12.5);
    ASSERT_EQ(v.count, 2u);
    const auto second = span_at(v.entries, 1);
    EXPECT_EQ(second.id, 4u);
    EXPECT_EQ(second.name, 9u);
    EXPECT_EQ(second.start, 10.75);
    EXPECT_EQ(second.seconds, 1.25);
    for (std::size_t cut = 0; cut < buf.size(); ++cut)
        EXPECT_THROW(decode_spans(std::span<const std::byte>(buf).first(cut)), protocol_error)
            << cut;
    buf.push_back(std::byte{0});  // a byte more than two entries
    EXPECT_THROW(decode_spans(buf), protocol_error);
}

TEST(Wire, ChildResultsRoundTripAndStatusRange) {
    bytes buf;
    child_results_writer w(buf, 3, "node7");
    w.add(70, outcome::ok, some_bytes(8, 1));
    w.add(71, outcome::protocol, some_bytes(3, 2));
    std::vector<result_view> out;
    const auto h = decode_child_results(buf, out);
    EXPECT_EQ(h.rank, 3u);
    EXPECT_EQ(h.host, "node7");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].id, 71u);
    EXPECT_EQ(out[1].status, outcome::protocol);
    // Statuses beyond protocol are unknown; a result_batch does not carry protocol at all.
    bytes bad;
    child_results_writer b(bad, 1, "h");
    b.add(1, static_cast<outcome>(9), {});
    EXPECT_THROW(decode_child_results(bad, out), protocol_error);
    bytes rb;
    result_batch_writer r(rb);
    r.begin_result(1);
    r.end_result(outcome::protocol);
    EXPECT_THROW(decode_result_batch(rb, out), protocol_error);
    // A child's result is never kept on a worker.
    bytes kept;
    child_results_writer k(kept, 1, "h");
    k.add(1, outcome::ok, some_bytes(8, 0));
    kept[4 + 2 + 1 + 4 + 8] |= std::byte{kept_flag};  // status of the first entry
    EXPECT_THROW(decode_child_results(kept, out), protocol_error);
}

TEST(Wire, KeptResultsCarryTheirSizeOnly) {
    bytes buf;
    result_batch_writer w(buf);
    w.add_kept(11, 123456789);
    w.begin_result(12);
    w.end_result(outcome::threw);
    std::vector<result_view> out;
    decode_result_batch(buf, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].id, 11u);
    EXPECT_EQ(out[0].status, outcome::ok);
    EXPECT_EQ(out[0].kept, std::optional<std::uint64_t>(123456789));
    EXPECT_TRUE(out[0].payload.empty());
    EXPECT_EQ(out[1].kept, std::nullopt);
    // Only a success is kept, and its payload is exactly a size.
    auto failed = buf;
    failed[8 + 8] = std::byte{kept_flag | static_cast<std::uint8_t>(outcome::threw)};
    EXPECT_THROW(decode_result_batch(failed, out), protocol_error);
    bytes odd;
    result_batch_writer o(odd);
    o.begin_result(1);
    odd.push_back(std::byte{1});
    o.end_result(outcome::ok);
    odd[8 + 8] |= std::byte{kept_flag};
    EXPECT_THROW(decode_result_batch(odd, out), protocol_error);
    // Fetching and releasing them.
    const bytes result = some_bytes(9, 5);
    const auto f = decode<fetched_results>(encode(fetched_results{{{11, 1, result}, {12, 0, {}}}}));
    ASSERT_EQ(f.results.size(), 2u);
    EXPECT_EQ(f.results[0].result, result);
    EXPECT_EQ(f.results[1].found, 0u);
    EXPECT_EQ(decode<fetch_results>(encode(fetch_results{{11, 12}})).ids,
              (std::vector<std::uint64_t>{11, 12}));
    EXPECT_EQ(decode<release_results>(encode(release_results{{13}})).ids,
              std::vector<std::uint64_t>{13});
    const auto body = encode(fetched_results{{{11, 1, result}}});
    for (std::size_t n = 0; n < body.size(); ++n)
        EXPECT_THROW(decode<fetched_results>(std::span(body).first(n)), protocol_error) << n;
}

TEST(Wire, StealMessagesRoundTrip) {
    const auto o = decode<steal_order>(encode(steal_order{12, 3}));
    EXPECT_EQ(o.order, 12u);
    EXPECT_EQ(o.thief, 3u);
    const auto request = decode<steal_request>(encode(steal_request{8, 21}));
    EXPECT_EQ(request.batches_received, 8u);
    EXPECT_EQ(request.messages_received, 21u);
    EXPECT_THROW(decode<steal_request>(some_bytes(3, 0)), protocol_error);
    const auto forecast =
        decode<lent_forecast>(encode(lent_forecast{{{7, 0.02, 1e-6}, {9, 0.5, 0}}}));
    ASSERT_EQ(forecast.tasks.size(), 2u);
    EXPECT_EQ(forecast.tasks[1].token, 9u);
    EXPECT_EQ(forecast.tasks[0].seconds, 0.02);
    EXPECT_EQ(forecast.tasks[0].variance, 1e-6);
    // A count larger than the entries present is refused, not trusted.
    auto short_body = encode(lent_forecast{{{7, 0.02, 1e-6}}});
    short_body.resize(short_body.size() - 1);
    EXPECT_THROW(decode<lent_forecast>(short_body), protocol_error);
}

TEST(Wire, GraphMessagesRoundTripAndRefuseTruncation) {
    const bytes args = some_bytes(5, 7);
    const auto body = encode(pending_batch{
        9, 1, {{77, 0x1111, 0x2222, args, {{3, 70, 1}, {graph_input::order_only, 71, 0}}}}});
    const auto b = decode<pending_batch>(body);
    EXPECT_EQ(b.seq, 9u);
    EXPECT_EQ(b.keep, 1u);
    ASSERT_EQ(b.tasks.size(), 1u);
    EXPECT_EQ(b.tasks[0].arguments, args);
    ASSERT_EQ(b.tasks[0].inputs.size(), 2u);
    EXPECT_EQ(b.tasks[0].inputs[0].local, 1u);
    EXPECT_EQ(b.tasks[0].inputs[1].at, graph_input::order_only);
    for (std::size_t n = 0; n < body.size(); ++n)
        EXPECT_THROW(decode<pending_batch>(std::span(body).first(n)), protocol_error) << n;
    const auto f = decode<input_forward>(encode(input_forward{{{77, 70, 1, args}}}));
    ASSERT_EQ(f.inputs.size(), 1u);
    EXPECT_EQ(f.inputs[0].failed, 1u);
    EXPECT_EQ(f.inputs[0].result, args);
    EXPECT_EQ(decode<pending_bounced>(encode(pending_bounced{{4, 5}})).ids,
              (std::vector<std::uint64_t>{4, 5}));
}
