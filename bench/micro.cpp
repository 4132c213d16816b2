// Microbenchmarks of tide's per-task hot paths (Google Benchmark). CI runs them briefly to
// prove they work; speed is judged by scripts/bench on a quiet machine, not by CI.

#include <benchmark/benchmark.h>

#include <deque>
#include <numeric>
#include <vector>

#include "exec/executor.hpp"
#include "exec/task_context.hpp"
#include "protocol/wire.hpp"
#include "tide/scheduler/dispatch.hpp"
#include "tide/scheduler/task_table.hpp"
#include "tide/tide.hpp"

namespace {

std::uint64_t noop(std::uint64_t x) { return x; }
TIDE_TASK(noop);

const tide::detail::task_entry& noop_entry() {
    return *tide::detail::registry::instance().by_name("noop");
}

// Encoding one task's arguments, as submit() does.
void encode_task(benchmark::State& state) {
    std::uint64_t i = 0;
    for (auto _ : state) {
        auto b = tide::detail::encode_call<std::uint64_t>(i++);
        benchmark::DoNotOptimize(b);
    }
}
BENCHMARK(encode_task);

// Decoding a result on rank 0, as future::get() does.
void decode_result(benchmark::State& state) {
    tide::detail::bytes b;
    tide::detail::append_values(b, std::uint64_t{42});
    for (auto _ : state) benchmark::DoNotOptimize(tide::detail::read_value<std::uint64_t>(b));
}
BENCHMARK(decode_result);

// A worker running a no-op task from its wire form: look-up, signature check, decode, call,
// encode the result.
void execute_noop(benchmark::State& state) {
    const auto& e = noop_entry();
    const auto args = tide::detail::encode_call<std::uint64_t>(7);
    tide::detail::bytes out;
    for (auto _ : state) {
        out.clear();
        benchmark::DoNotOptimize(tide::detail::execute(e.name_hash, e.sig->hash, args, out));
    }
}
BENCHMARK(execute_noop);

void registry_lookup(benchmark::State& state) {
    const auto hash = noop_entry().name_hash;
    for (auto _ : state) benchmark::DoNotOptimize(tide::detail::registry::instance().by_hash(hash));
}
BENCHMARK(registry_lookup);

// Rank 0's bookkeeping for one task: table insert, queue push and pop, erase.
void task_table_cycle(benchmark::State& state) {
    tide::sched::task_table table;
    std::deque<tide::sched::task_id> queue;
    for (auto _ : state) {
        queue.push_back(table.insert({}));
        const auto id = queue.front();
        queue.pop_front();
        table.erase(id);
    }
}
BENCHMARK(task_table_cycle);

// Encoding and decoding a wire batch of 256 no-op tasks, per task.
void task_batch_codec(benchmark::State& state) {
    const auto args = tide::detail::encode_call<std::uint64_t>(7);
    tide::detail::bytes buf;
    std::vector<tide::wire::task_view> views;
    for (auto _ : state) {
        buf.clear();
        tide::wire::task_batch_writer w(buf, 1);
        for (std::uint64_t i = 0; i < 256; ++i) w.add(i, 1, 2, args, false);
        tide::wire::decode_task_batch(buf, views);
        benchmark::DoNotOptimize(views.data());
    }
    state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(task_batch_codec);

void plan_dispatch(benchmark::State& state) {
    std::vector<tide::sched::worker_load> w(static_cast<std::size_t>(state.range(0)));
    for (std::size_t i = 0; i < w.size(); ++i) w[i].in_hand = i * 7 % 256;
    for (auto _ : state) benchmark::DoNotOptimize(tide::sched::plan_dispatch(10000, w, 256));
}
BENCHMARK(plan_dispatch)->Arg(1)->Arg(16)->Arg(1024);

// A task submitting a child and waiting for it, all on this thread's deque: the work-first
// path (no serialization, no message). A context without a network stands in for a worker.
class local_context final : public tide::detail::task_context {
public:
    local_context() : task_context(0, "bench") {}

private:
    bool help(bool) override { return false; }
    void after_task(clock::time_point) override {}
};

void nested_spawn_and_get(benchmark::State& state) {
    local_context context;
    tide::detail::context_scope scope(context);
    std::uint64_t i = 0;
    for (auto _ : state) {
        auto f = tide::submit(noop, i++);
        benchmark::DoNotOptimize(f.get());
    }
}
BENCHMARK(nested_spawn_and_get);

// Recursive Fibonacci with a task per call (fib(20): 21,891 tasks), against plain recursion:
// the difference per call is what a nested task costs inside real recursion.
std::uint64_t fib_plain(int n) {
    return n < 2 ? static_cast<std::uint64_t>(n) : fib_plain(n - 1) + fib_plain(n - 2);
}
std::uint64_t fib_nested(int n) {
    if (n < 2) return static_cast<std::uint64_t>(n);
    auto a = tide::submit(fib_nested, n - 1);
    auto b = tide::submit(fib_nested, n - 2);
    return a.get() + b.get();
}
TIDE_TASK(fib_nested);

void fib20_plain(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(fib_plain(static_cast<int>(state.range(0))));
    state.SetItemsProcessed(state.iterations() * 21891);
}
BENCHMARK(fib20_plain)->Arg(20);

void fib20_nested(benchmark::State& state) {
    local_context context;
    tide::detail::context_scope scope(context);
    for (auto _ : state) benchmark::DoNotOptimize(fib_nested(static_cast<int>(state.range(0))));
    state.SetItemsProcessed(state.iterations() * 21891);
}
BENCHMARK(fib20_nested)->Arg(20);

}  // namespace

BENCHMARK_MAIN();
