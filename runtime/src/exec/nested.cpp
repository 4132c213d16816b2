#include <pthread.h>

#include <cstdint>
#include <string>
#include <utility>

#include "exec/task_context.hpp"
#include "platform/polling.hpp"

namespace tide::detail {

namespace {
thread_local task_context* current_context = nullptr;
// Stack kept free below the deepest task frame: room for a task's own locals and calls.
constexpr std::ptrdiff_t stack_reserve = 1 << 20;

// How a nested task failed, in the same words as a task run for the driver.
task_error error_here(const task_context& where, const task_entry& entry, std::string what) {
    return task_error(task_error::kind::threw, entry.name, where.rank(), where.host(),
                      std::move(what));
}
}  // namespace

task_context* task_context::current() noexcept { return current_context; }

context_scope::context_scope(task_context& context) : previous_(current_context) {
    current_context = &context;
}
context_scope::~context_scope() { current_context = previous_; }

task_context::task_context(int rank, std::string host) : rank_(rank), host_(std::move(host)) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void* low = nullptr;
        if (pthread_attr_getstack(&attr, &low, &stack_size_) == 0)
            stack_low_ = static_cast<const char*>(low);
        pthread_attr_destroy(&attr);
    }
}

task_context::~task_context() {
    // Children nobody ran (the run ended first): their futures are gone with their parents.
    // Tasks still held for their inputs go too; a wait that their freeing starts (a future
    // among their arguments) fails at once rather than run anything.
    closing_ = true;
    collect_ready();
    while (auto t = deque_.pop()) (*t)->release();
    const auto held = std::move(held_);
    for (auto* t : held) t->release();
}

std::ptrdiff_t task_context::stack_left() const {
    if (!stack_low_) return PTRDIFF_MAX;
    const char here = 0;
    return &here - stack_low_;
}

bool task_context::stack_has_room() const {
    return stack_left() > static_cast<std::ptrdiff_t>(stack_size_ / 2);
}

void task_context::record(std::uint64_t name, double seconds, std::uint64_t tasks) {
    executed_ += tasks;
    busy_seconds_ += seconds;
    const double each = seconds / static_cast<double>(tasks);
    for (auto& d : durations_)
        if (d.name == name) {
            d.count += tasks;
            d.sum += seconds;
            d.sum_of_squares += seconds * each;
            return;
        }
    durations_.push_back({name, tasks, seconds, seconds * each});
}

task_context::clock::time_point task_context::run_nested(nested_task* t) {
    // Its children's nearest known ancestor is its own (a child may run after its parent
    // returned, or inside an unrelated task's wait).
    const auto outer = std::exchange(current_task_, t->parent());
    const auto end = timed_frame(t->entry().name_hash, [&] { t->run_here(*this); });
    current_task_ = outer;
    t->release();
    return end;
}

void task_context::spawn_after(nested_task* t, std::span<nested_task* const> inputs) {
    t->set_parent(current_task_);
    t->home_ = this;
    held_.insert(t);
    // One more than the inputs while they are registered: the task cannot become ready (and
    // run, and be freed) before the last one is.
    t->inputs_left_.store(static_cast<int>(inputs.size()) + 1, std::memory_order_relaxed);
    for (auto* input : inputs) input->add_dependent(t);
    t->input_finished();
}

void task_context::make_ready(nested_task* t) {
    if (current() == this) {
        held_.erase(t);
        deque_.push(t);
        return;
    }
    std::lock_guard lock(ready_mu_);  // another thread finished its last input
    ready_.push_back(t);
    any_ready_.store(true, std::memory_order_release);
}

void task_context::collect_ready() {
    if (!any_ready_.load(std::memory_order_acquire)) return;
    std::vector<nested_task*> ready;
    {
        std::lock_guard lock(ready_mu_);
        ready.swap(ready_);
        any_ready_.store(false, std::memory_order_relaxed);
    }
    for (auto* t : ready) {
        held_.erase(t);
        deque_.push(t);
    }
}

void task_context::drain() {
    for (;;) {
        collect_ready();
        auto t = deque_.pop();
        if (!t) break;
        run_nested(*t);
    }
}

bool task_context::wait(nested_task& t, clock::time_point deadline) {
    auto backoff = idle_polling();
    while (!t.finished()) {
        if (closing_ || ending())
            throw error("tide: the run ended while this task waited for a child task");
        collect_ready();
        // Own children first (pushed since the waiting frame started): always safe, and what
        // the wait is usually for. Older work only while the stack has room for it.
        const bool room = stack_has_room();
        // A child running on top of its waiting parent needs stack; past the reserve, fail
        // the waiting task with a clear error rather than overflow.
        if (stack_left() < stack_reserve)
            throw error("tide: tasks waiting on children are nested too deeply for the " +
                        std::to_string(stack_size_ >> 20) +
                        " MiB task stack; raise --tide-stack-size (TIDE_STACK_SIZE)");
        auto next = deque_.pop_above(frame_mark_);
        if (!next && room) next = deque_.pop();
        if (next) {
            after_task(run_nested(*next));
            backoff.reset();
            continue;
        }
        if (help(room)) {
            backoff.reset();
            continue;
        }
        if (t.finished()) break;
        if (deadline != clock::time_point::max() && clock::now() >= deadline) return false;
        const auto expected =
            backoff.quick() ? std::nullopt : expected_result_of(t);  // no lock while quick
        idle_pause(backoff, deadline, expected ? &*expected : nullptr);
    }
    return true;
}

void nested_task::run_here(const task_context& context) {
    try {
        invoke();
        finish(status::done);
        return;
    } catch (const task_error&) {
        error_ = std::current_exception();  // a descendant's failure passes through unchanged
    } catch (const std::exception& e) {
        error_ = std::make_exception_ptr(error_here(context, entry_, e.what()));
    } catch (...) {
        error_ = std::make_exception_ptr(
            error_here(context, entry_, "an exception not derived from std::exception"));
    }
    finish(status::failed);
}

nested_task::dependent_node* nested_task::closed_list() {
    static dependent_node closed{nullptr, nullptr};
    return &closed;
}

nested_task::~nested_task() {
    // Dependents not told: the run ended before this task did (they are freed by their
    // context).
    auto* node = dependents_.load(std::memory_order_acquire);
    while (node && node != closed_list()) delete std::exchange(node, node->next);
}

void nested_task::finish(status s) {
    status_.store(s, std::memory_order_release);
    auto* node = dependents_.exchange(closed_list(), std::memory_order_acq_rel);
    while (node) {
        auto* next = node->next;
        node->task->input_finished();
        delete node;
        node = next;
    }
}

void nested_task::add_dependent(nested_task* dependent) {
    auto* node = new dependent_node{dependent, dependents_.load(std::memory_order_acquire)};
    while (node->next != closed_list()) {
        if (dependents_.compare_exchange_weak(node->next, node, std::memory_order_acq_rel,
                                              std::memory_order_acquire))
            return;
    }
    delete node;  // finished already
    dependent->input_finished();
}

void nested_task::input_finished() {
    if (inputs_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) home_->make_ready(this);
}

const task_entry& when_all_entry() {
    static const task_entry entry{
        "tide::when_all", fnv1a("tide::when_all"), &signature_of<void>(), nullptr, nullptr, false};
    return entry;
}

void nested_task::deliver_value(std::span<const std::byte> payload, int rank,
                                const std::string& host) {
    try {
        decode_result(payload);
        finish(status::done);
    } catch (const std::exception&) {
        deliver_error(std::make_exception_ptr(
            task_error(task_error::kind::protocol, entry_.name, rank, host,
                       "its result does not decode as the type the future expects")));
    }
}

void nested_task::deliver_error(std::exception_ptr error) {
    error_ = std::move(error);
    finish(status::failed);
}

void drop_nested(nested_task* t) noexcept {
    try {
        wait_nested(*t, std::chrono::steady_clock::time_point::max());
    } catch (...) {  // the run is ending, or the future was moved off its task's thread
    }
    t->release();
}

namespace {
// The context a new child task goes to; outside a task, the task is freed (nobody else holds
// it yet) and the call refused.
task_context& context_for(nested_task* t) {
    task_context* context = task_context::current();
    if (!context) {
        delete t;
        throw error(
            "tide::submit is for tasks submitting child tasks; on rank 0 use the driver's "
            "submit");
    }
    return *context;
}
}  // namespace

void spawn_nested(nested_task* t) { context_for(t).spawn(t); }

void spawn_after(nested_task* t, std::span<nested_task* const> inputs) {
    context_for(t).spawn_after(t, inputs);
}

bool wait_nested(nested_task& t, std::chrono::steady_clock::time_point deadline) {
    if (t.finished()) return true;
    task_context* context = task_context::current();
    if (!context)
        throw error(
            "tide: a future of a nested task can only be waited on inside the task that "
            "submitted it");
    return context->wait(t, deadline);
}

}  // namespace tide::detail
