// The trace file's structure (spans on rank 0's clock, properly nested per track, lent tasks
// linked, scaling decisions named, the span limit) and the status lines' pacing.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "rank0/observe/progress.hpp"
#include "rank0/observe/trace.hpp"
#include "tide/error.hpp"

using namespace tide::detail;
using nlohmann::json;

namespace {
json written(const trace& t, const std::vector<timeline_row>& rows = {}) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("tide_observe_test_" + std::to_string(getpid()) + ".json");
    t.write(path.string(), rows, [](std::uint64_t h) { return "task" + std::to_string(h); });
    std::ifstream in(path);
    auto doc = json::parse(in);
    std::filesystem::remove(path);
    return doc;
}

// A spans message from `rank`, sent at `sent_at` on its clock and received at `received`.
void message(trace& t, int rank, double sent_at, double received,
             std::vector<tide::wire::span_report> spans) {
    tide::wire::bytes body;
    tide::wire::spans_writer w(body);
    for (const auto& s : spans) w.add(s);
    w.set_sent_at(sent_at);
    t.spans_from(rank, tide::wire::decode_spans(body), received);
}

// A span on a worker whose clock is rank 0's.
void span(trace& t, int rank, double start, double seconds, std::uint64_t name, std::uint64_t id) {
    message(t, rank, 0, 0, {{id, name, start, seconds}});
}

std::vector<json> of_phase(const json& doc, const std::string& ph) {
    std::vector<json> out;
    for (const auto& e : doc["traceEvents"])
        if (e["ph"] == ph) out.push_back(e);
    return out;
}
}  // namespace

TEST(Trace, WorkerClockIsMappedByTheFastestMessage) {
    trace t;
    // Rank 1's clock reads 1000 s when rank 0's run is at 0: messages took 10 ms, then 1 ms.
    message(t, 1, 1000.5, 0.51, {{42, 7, 1000.2, 0.1}});
    message(t, 1, 1001.0, 1.001, {});
    t.own_span({43, 7, 0.3, 0.05});  // rank 0's own: already on its clock
    const auto spans = of_phase(written(t), "X");
    ASSERT_EQ(spans.size(), 2u);
    for (const auto& s : spans) {
        if (s["args"]["id"] == 42) {
            EXPECT_NEAR(s["ts"].get<double>(), 0.201e6, 1.0);
            EXPECT_NEAR(s["dur"].get<double>(), 0.1e6, 1e-6);
            EXPECT_EQ(s["tid"], 1);
            EXPECT_EQ(s["name"], "task7");
            EXPECT_EQ(s["args"]["parent"], 0);
        } else {
            EXPECT_NEAR(s["ts"].get<double>(), 0.3e6, 1e-6);
            EXPECT_EQ(s["tid"], 0);
        }
    }
}

TEST(Trace, SpansOnATrackNestOrFollow) {
    trace t;
    span(t, 1, 0.0, 1.0, 1, 1);
    span(t, 1, 0.2, 0.1, 1, 2);    // inside the first: a task run during a wait
    span(t, 1, 0.999, 0.5, 1, 3);  // overlapping the first's end (a confused worker)
    span(t, 1, 1.6, 0.1, 1, 4);
    span(t, 1, 1.7, 0.2, 1, 5);  // starts as the one before ends: the worker's one clock read
    span(t, 1, 2.0, 0.0, 1, 6);  // shorter than a clock tick
    span(t, 2, 0.5, 0.2, 1, 7);  // another track is not affected
    auto spans = of_phase(written(t), "X");
    // In whole nanoseconds, as a viewer places them.
    std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> at;
    for (const auto& s : spans) {
        const auto start = std::llround(s["ts"].get<double>() * 1e3);
        at[s["args"]["id"]] = {start, start + std::llround(s["dur"].get<double>() * 1e3)};
    }
    const std::int64_t ms = 1'000'000;
    EXPECT_EQ(at[2], std::make_pair(200 * ms, 300 * ms));            // nested: untouched
    EXPECT_EQ(at[3], std::make_pair(1000 * ms + 1, 1500 * ms + 1));  // follows, same length
    EXPECT_EQ(at[4], std::make_pair(1600 * ms, 1700 * ms));
    EXPECT_EQ(at[5], std::make_pair(1700 * ms + 1, 1900 * ms));  // a nanosecond apart
    EXPECT_EQ(at[6], std::make_pair(2000 * ms, 2000 * ms));
    EXPECT_EQ(at[7], std::make_pair(500 * ms, 700 * ms));
    // Every pair on a track nests or is disjoint, also after the viewer's rounding.
    for (const auto& [a, x] : at)
        for (const auto& [b, y] : at) {
            if (a == b || (a == 7) != (b == 7)) continue;
            const bool disjoint = x.second <= y.first || y.second <= x.first;
            const bool nested = (x.first <= y.first && y.second <= x.second) ||
                                (y.first <= x.first && x.second <= y.second);
            EXPECT_TRUE(disjoint || nested) << a << " and " << b;
        }
}

TEST(Trace, LentTasksNameTheirParentAndGetAFlow) {
    trace t;
    span(t, 1, 0.0, 1.0, 1, 10);
    span(t, 2, 0.4, 0.2, 1, 11);
    t.lent(11, 10, 1);
    const auto doc = written(t);
    for (const auto& s : of_phase(doc, "X"))
        if (s["args"]["id"] == 11) {
            EXPECT_EQ(s["args"]["parent"], 10);
            EXPECT_EQ(s["args"]["lent_by_rank"], 1);
        }
    const auto starts = of_phase(doc, "s");
    const auto ends = of_phase(doc, "f");
    ASSERT_EQ(starts.size(), 1u);
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(starts[0]["tid"], 1);  // from the parent's track
    EXPECT_EQ(ends[0]["tid"], 2);    // to the child's
    EXPECT_EQ(starts[0]["id"], ends[0]["id"]);
}

TEST(Trace, RowsBecomeCountersAndNamedDecisions) {
    trace t;
    t.instant(0.5, 3, "park");
    t.instant(0.05, trace::pool, "spawn", "ranks 1..2");
    std::vector<timeline_row> rows(3);
    rows[0].seconds = 0.1;
    rows[0].busy = 2;
    rows[0].queued = 40;
    rows[0].backlog_seconds = 1.5;
    rows[0].event = "grow: backlog 1.5 s; active 0 => spawn 2";
    rows[1].seconds = 0.2;
    rows[1].event = "worker 3 lost; shrink: backlog 0 s; active 2 => park 1";
    rows[2].seconds = 0.3;
    rows[2].event = "spawn failed: no slots; ";
    const auto doc = written(t, rows);
    std::vector<std::string> names, reasons;
    for (const auto& e : of_phase(doc, "i")) {
        if (e["pid"] == 1) {
            EXPECT_EQ(e["name"], "park");
            EXPECT_EQ(e["tid"], 3);
            continue;
        }
        if (e["cat"] != "decision") {  // the pool's own events: on its track
            EXPECT_EQ(e["name"], "spawn");
            EXPECT_EQ(e["pid"], 0);
            EXPECT_EQ(e["args"]["detail"], "ranks 1..2");
            continue;
        }
        names.push_back(e["name"]);
        reasons.push_back(e["args"]["reason"]);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"grow", "shrink", "spawn failed"}));
    EXPECT_EQ(reasons[1], rows[1].event);
    const auto counters = of_phase(doc, "C");
    ASSERT_EQ(counters.size(), 9u);  // workers, queued, backlog per row
    EXPECT_EQ(counters[0]["args"]["busy"], 2);
    EXPECT_EQ(counters[1]["args"]["queued"], 40);
    EXPECT_EQ(counters[2]["args"]["backlog"], 1.5);
}

TEST(Trace, SpansBeyondTheLimitAreCountedNotKept) {
    trace t(3);
    message(t, 1, 0, 0, {{1, 1, 1.0, 0.5}, {2, 1, 2.0, 0.5}});
    message(t, 2, 0, 0, {{3, 1, 3.0, 0.5}, {4, 1, 4.0, 0.5}});  // the second one is too many
    t.own_span({5, 1, 5.0, 0.5});
    EXPECT_EQ(t.spans(), 3u);
    EXPECT_EQ(t.spans_dropped(), 2u);
    const auto doc = written(t);
    EXPECT_EQ(of_phase(doc, "X").size(), 3u);
    EXPECT_EQ(doc["otherData"]["spans_dropped"], 2);
}

TEST(Trace, WhatAViewerWouldRejectIsLeftOut) {
    trace t;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    message(t, 1, nan, 0.5, {{1, 1, 0.1, 0.2}});  // a clock reading that is not a number
    message(t, 1, 0.0, 0.0, {{2, 1, nan, 0.2}, {3, 1, 0.3, -1.0}, {4, 1, 0.4, 0.1}});
    const auto spans = of_phase(written(t), "X");
    ASSERT_EQ(spans.size(), 2u);  // 1 and 4
    for (const auto& s : spans) {
        EXPECT_TRUE(s["ts"].is_number()) << s;
        EXPECT_GE(s["dur"].get<double>(), 0.0);
    }
}

TEST(Trace, ARunWhoseResultWasLostIsMarked) {
    trace t;
    span(t, 1, 0.0, 0.5, 1, 7);  // ran on rank 1, which died before its result came back
    span(t, 2, 1.0, 0.5, 1, 7);  // ran again on rank 2
    t.result_lost(1, 7);
    for (const auto& s : of_phase(written(t), "X"))
        EXPECT_EQ(s["args"].contains("result_lost"), s["tid"] == 1) << s;
}

TEST(Trace, UnwritableFileIsAnError) {
    trace t;
    EXPECT_THROW(t.write("/nonexistent-dir/t.json", {}, [](std::uint64_t) { return ""; }),
                 tide::error);
}

TEST(Progress, StatusLinesComeAtTheIntervalWhileSomethingChanges) {
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* out = open_memstream(&text, &size);
    ASSERT_NE(out, nullptr);
    progress p(0.5, false, out);
    const auto t0 = progress::clock::now();
    progress_facts f;
    p.update(t0 - std::chrono::milliseconds(100), f);  // before the first task: no line
    EXPECT_TRUE(p.due(t0));                            // nor a wait for the first one
    f.submitted = 100;
    p.update(t0, f);
    EXPECT_FALSE(p.due(t0 + std::chrono::milliseconds(499)));
    EXPECT_TRUE(p.due(t0 + std::chrono::milliseconds(500)));
    f.elapsed = 0.5;
    p.update(t0 + std::chrono::milliseconds(500), f);  // nothing changed: no line
    f.elapsed = 1.0;
    f.done = 50;
    f.busy = 2;
    p.update(t0 + std::chrono::seconds(1), f);
    std::fflush(out);
    const std::string printed(text, size);
    std::fclose(out);
    std::free(text);
    EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 2) << printed;
    EXPECT_NE(printed.find("[tide 1.0 s] tasks 50/100 done, 100.0/s, ETA 0 s; workers 2 busy"),
              std::string::npos)
        << printed;
}

TEST(Progress, LineShowsFailuresAndALongEta) {
    progress_facts f;
    f.elapsed = 61;
    f.submitted = 10000;
    f.done = 100;
    f.failed = 2;
    f.parked = 1;
    f.backlog_seconds = 12.25;
    EXPECT_EQ(progress::format(f, 2.0),
              "[tide 61.0 s] tasks 102/10000 done (2 failed), 2.0/s, ETA 1 h 22 min; workers 0 "
              "busy, 0 idle, 1 parked, 0 starting; backlog 12.2 s");
}
