#include "simulator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <random>
#include <sstream>
#include <utility>

#include "tide/scheduler/bulk_ranges.hpp"
#include "tide/scheduler/dispatch.hpp"
#include "tide/scheduler/load_estimator.hpp"
#include "tide/scheduler/scaling_policy.hpp"

namespace tide::sim {

namespace {

// What a scheduler hands out as one: a task, or a range of a bulk map's tasks.
struct record {
    std::uint32_t tasks = 1;
    bool root = false;  // a tree's root (its children: root_children)
};

// A worker's results since it last sent them, rank 0's records and tasks.
struct unsent {
    std::uint64_t records = 0, tasks = 0;
    double since = 0;
};

struct worker {
    std::size_t parent = 0;      // its scheduler: rank 0, or its node's leader
    std::size_t slot = 0;        // its index among the parent's children
    std::deque<record> inbox;    // received, not started
    std::vector<record> nested;  // a tree's children, run last-in first-out
    bool running = false, alive = true, hungry = false;
    double joined = 0, left = -1, busy = 0, last_status = 0;
    bool reported_depth = false;  // the last status said its deque had something
    unsent results;
    std::uint64_t in_hand_tasks = 0;  // received from its parent, results not sent
    std::uint64_t batches = 0;        // received from its parent
    std::uint64_t records_in_hand = 0;
};

// Rank 0 (index 0) or a node's leader: a server that takes one message at a time.
struct scheduler {
    std::size_t parent = 0;                     // a leader's: rank 0
    std::size_t slot = 0;                       // a leader's index among rank 0's children
    std::deque<std::function<double()>> inbox;  // each handles one message, returns its cost
    bool processing = false;
    double busy = 0, busy_until = 0;
    std::deque<record> queue;
    std::uint64_t queue_tasks = 0;
    // Children: workers (or, for rank 0 with leaders, the leaders).
    std::vector<std::size_t> children;
    std::vector<sched::worker_load> loads;
    sched::fill_order order;
    std::vector<sched::worker_estimate> estimates;
    std::vector<bool> hungry, robbing;        // a child asked for work; a child is being robbed
    std::vector<bool> thief_waiting;          // a steal order for this child is out
    std::vector<std::uint64_t> batches_sent;  // to each child
    std::size_t prefetch = 0;
    unsent up;  // a leader's results not yet forwarded to rank 0
};

struct event {
    double time;
    std::uint64_t seq;
    std::function<void()> act;
    bool operator>(const event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

class world {
public:
    explicit world(const sim_config& c) : c_(c), rng_(c.seed), policy_(policy_settings_of(c)) {}

    sim_result run() {
        const auto host_start = std::chrono::steady_clock::now();
        build();
        while (!events_.empty() && !done()) {
            event e = events_.top();
            events_.pop();
            now_ = e.time;
            ++r_.events;
            e.act();
        }
        r_.makespan = finished_at_;
        double in_pool = 0, busy = 0;
        for (const auto& w : workers_) {
            const double end = w.left >= 0 ? w.left : finished_at_;
            if (end > w.joined) in_pool += end - w.joined;
            busy += w.busy;
        }
        r_.idle_fraction = in_pool > 0 ? std::max(0.0, 1 - busy / in_pool) : 0;
        r_.rank0_busy = nodes_[0].busy;
        r_.host_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
        return r_;
    }

private:
    static sched::policy_settings policy_settings_of(const sim_config& c) {
        sched::policy_settings s;
        s.min_workers = c.workers;
        s.max_workers = std::max(c.workers, c.max_workers);
        return s;
    }
    bool tree() const { return c_.service.kind == service_kind::tree; }
    bool done() const { return tree() ? nodes_done_ == nodes_made_ : r_.tasks_done >= c_.tasks; }
    std::size_t leaders() const {
        return c_.per_leader == 0 ? 0 : (c_.workers + c_.per_leader - 1) / c_.per_leader;
    }

    void at(double t, std::function<void()> act) { events_.push({t, seq_++, std::move(act)}); }
    double transfer(std::size_t bytes) const {
        return c_.cost.latency + static_cast<double>(bytes) / c_.cost.bandwidth;
    }

    void build() {
        nodes_.resize(1 + leaders());
        nodes_[0].prefetch = c_.per_leader ? c_.per_leader * c_.prefetch : c_.prefetch;
        for (std::size_t l = 1; l < nodes_.size(); ++l) {
            nodes_[l].prefetch = c_.prefetch;
            add_child(0, l);
        }
        for (std::size_t i = 0; i < c_.workers; ++i) add_worker(0.0);
        if (tree()) {
            nodes_made_ = 1;
            queue_up(0, {1, true});
        } else {
            const auto mean = c_.durations_known ? std::optional(c_.service.mean) : std::nullopt;
            const std::size_t pool = std::max(c_.workers, c_.max_workers);
            leaf_size_ = c_.ranges ? sched::range_size({c_.tasks, pool, c_.prefetch, mean}) : 1;
            // With leaders, rank 0 cuts ranges for its leaders, each a node that runs per_leader
            // tasks at once, and each leader cuts what it gets into ranges for its workers.
            const auto node_mean =
                mean ? std::optional(*mean / static_cast<double>(c_.per_leader)) : std::nullopt;
            const std::size_t size =
                c_.ranges && c_.per_leader
                    ? sched::range_size(
                          {c_.tasks, leaders(), c_.per_leader * c_.prefetch, node_mean})
                    : leaf_size_;
            root_size_ = size;
            for (std::uint64_t left = c_.tasks; left > 0;) {
                const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(size, left));
                queue_up(0, {n, false});
                left -= n;
                ++r_.records;
            }
        }
        at(0, [this] { wake(0); });
        for (const double t : c_.deaths) at(t, [this] { kill_one(); });
        if (c_.max_workers > c_.workers) at(0.02, [this] { scale(); });
    }

    void queue_up(std::size_t s, record rec) {
        nodes_[s].queue.push_back(rec);
        nodes_[s].queue_tasks += rec.tasks;
    }

    // A child (worker or leader `child`) joins scheduler s.
    void add_child(std::size_t s, std::size_t child) {
        auto& n = nodes_[s];
        const std::size_t slot = n.children.size();
        n.children.push_back(child);
        n.loads.push_back({0, true, 0});
        n.order.update(slot, n.loads.back());
        n.estimates.push_back({});
        n.hungry.push_back(false);
        n.robbing.push_back(false);
        n.thief_waiting.push_back(false);
        n.batches_sent.push_back(0);
        if (s == 0 && c_.per_leader) nodes_[child].slot = slot;
    }

    void add_worker(double t) {
        const std::size_t id = workers_.size();
        workers_.emplace_back();
        worker& w = workers_.back();
        w.joined = t;
        std::size_t parent = 0;
        if (c_.per_leader) {  // the leader with the fewest workers
            parent = 1;
            for (std::size_t l = 2; l < nodes_.size(); ++l)
                if (nodes_[l].children.size() < nodes_[parent].children.size()) parent = l;
        }
        w.parent = parent;
        w.slot = nodes_[parent].children.size();
        add_child(parent, id);
        ++alive_;
        r_.peak_workers = std::max(r_.peak_workers, alive_);
        ask(id);
    }

    // ---- schedulers ----------------------------------------------------------------------

    void deliver(std::size_t s, std::function<double()> handle) {
        nodes_[s].inbox.push_back(std::move(handle));
        wake(s);
    }
    void wake(std::size_t s) {
        if (nodes_[s].processing) return;
        nodes_[s].processing = true;
        at(std::max(now_, nodes_[s].busy_until), [this, s] { process(s); });
    }
    // One pump, as rank 0's: takes in what has arrived (up to a budget), then dispatches once;
    // the sends leave when it is done.
    static constexpr int pump_budget = 64;
    void process(std::size_t s) {
        auto& n = nodes_[s];
        double cost = 0;
        for (int k = 0; k < pump_budget && !n.inbox.empty(); ++k) {
            auto handle = std::move(n.inbox.front());
            n.inbox.pop_front();
            cost += c_.cost.rank0_per_message + handle();
            if (s == 0) ++r_.rank0_messages;
        }
        departures_.clear();
        cost += dispatch(s);
        if (s != 0 && n.inbox.empty() && n.up.tasks > 0) {  // a leader forwards results, batched
            const unsent up = std::exchange(n.up, {});
            cost += c_.cost.rank0_per_message;
            departures_.push_back([this, s, up](double t) {
                at(t + transfer(up.tasks * c_.cost.result_bytes), [this, s, up] {
                    deliver(0, [this, s, up] { return results(0, nodes_[s].slot, up); });
                });
            });
        }
        n.busy += cost;
        n.busy_until = now_ + cost;
        for (auto& d : departures_) d(n.busy_until);
        departures_.clear();
        if (!n.inbox.empty()) {
            at(n.busy_until, [this, s] { process(s); });
        } else {
            n.processing = false;
        }
    }

    // Results from child `slot` of scheduler s.
    double results(std::size_t s, std::size_t slot, unsent got) {
        auto& n = nodes_[s];
        auto& load = n.loads[slot];
        load.in_hand -= std::min<std::size_t>(load.in_hand, got.tasks);
        load.last_active = ++activity_;
        if (load.accepting) n.order.update(slot, load);
        refresh(n, slot);
        n.robbing[slot] = false;
        if (s == 0) {
            r_.tasks_done += got.tasks;
            if (done()) finished_at_ = now_;
        } else {
            n.up.tasks += got.tasks;
            n.up.records += got.records;
        }
        // Rank 0 handles its own records: a leader's results count as the root ranges they
        // complete.
        const double records = s == 0 && c_.per_leader ? static_cast<double>(got.tasks) /
                                                             static_cast<double>(root_size_)
                                                       : static_cast<double>(got.records);
        return c_.cost.rank0_per_record * records +
               (s == 0 ? c_.cost.rank0_per_task * static_cast<double>(got.tasks) : 0);
    }

    double dispatch(std::size_t s) {
        auto& n = nodes_[s];
        double cost = 0;
        if (!n.queue.empty()) {
            std::vector<std::size_t> plan;
            const std::size_t hold = sched::hold_for(n.prefetch, n.queue.front().tasks);
            if (c_.incremental_dispatch) {
                // A record at a time to the least loaded child: O(log P) each.
                plan.assign(n.children.size(), 0);
                std::uint64_t left = n.queue_tasks;
                auto front = n.queue.begin();
                while (left > 0 && front != n.queue.end()) {
                    const auto next = n.order.next(hold);
                    if (!next) break;
                    plan[*next] += front->tasks;
                    auto load = n.order.load(*next);
                    load.in_hand += front->tasks;
                    n.order.update(*next, load);
                    left -= front->tasks;
                    ++front;
                    cost += c_.cost.rank0_per_heap_step *
                            std::log2(2.0 + static_cast<double>(n.children.size()));
                }
            } else {
                plan = sched::plan_dispatch(n.queue_tasks, n.loads, hold);
                cost += c_.cost.rank0_per_worker_scan * static_cast<double>(n.children.size());
            }
            for (std::size_t i = 0; i < plan.size() && !n.queue.empty(); ++i) {
                if (plan[i] == 0) continue;
                std::vector<record> batch;
                std::uint64_t tasks = 0;
                while (tasks < plan[i] && !n.queue.empty()) {
                    tasks += n.queue.front().tasks;
                    batch.push_back(n.queue.front());
                    n.queue.pop_front();
                }
                n.queue_tasks -= tasks;
                cost += send_batch(s, i, std::move(batch), tasks);
            }
        }
        if (tree() && s == 0) cost += broker_steals(s);
        return cost;
    }

    double send_batch(std::size_t s, std::size_t slot, std::vector<record> batch,
                      std::uint64_t tasks) {
        auto& n = nodes_[s];
        n.loads[slot].in_hand += tasks;
        ++n.batches_sent[slot];
        n.order.update(slot, n.loads[slot]);
        refresh(n, slot);
        n.hungry[slot] = false;
        n.estimates[slot].hungry = false;
        const std::size_t child = n.children[slot];
        const bool to_leader = s == 0 && c_.per_leader;
        const double cost = c_.cost.rank0_per_message +
                            c_.cost.rank0_per_record * static_cast<double>(batch.size()) +
                            (s == 0 ? c_.cost.rank0_per_task * static_cast<double>(tasks) : 0);
        if (s == 0) ++r_.rank0_messages;
        departures_.push_back([this, child, to_leader, batch = std::move(batch), tasks](double t) {
            at(t + transfer(tasks * c_.cost.task_bytes), [this, child, to_leader, batch] {
                if (to_leader) {
                    deliver(child, [this, child, batch] {
                        std::size_t pieces = 0;
                        for (const auto& r : batch)
                            for (std::uint32_t at = 0; at < r.tasks; at += leaf_size_, ++pieces)
                                queue_up(child, {static_cast<std::uint32_t>(std::min<std::size_t>(
                                                     leaf_size_, r.tasks - at)),
                                                 false});
                        return c_.cost.rank0_per_record * static_cast<double>(pieces);
                    });
                } else {
                    receive(child, batch);
                }
            });
        });
        return cost;
    }

    // Trees: idle workers get half of a busy one's deque, through rank 0 (its real choice of
    // victim, on the depths the workers reported).
    double broker_steals(std::size_t s) {
        auto& n = nodes_[s];
        double cost = 0;
        for (std::size_t thief = 0; thief < n.children.size(); ++thief) {
            if (!n.hungry[thief] || n.thief_waiting[thief] || !workers_[n.children[thief]].alive)
                continue;
            const auto victim = sched::pick_victim(n.estimates, thief, n.robbing);
            cost += c_.cost.rank0_per_worker_scan * static_cast<double>(n.children.size());
            if (!victim) break;
            n.robbing[*victim] = true;
            n.thief_waiting[thief] = true;
            ++r_.steal_orders;
            ++r_.rank0_messages;
            cost += c_.cost.rank0_per_message;
            const std::size_t v = n.children[*victim], t = thief;
            departures_.push_back([this, v, t](double when) {
                at(when + transfer(16), [this, v, t] { give(v, t); });
            });
        }
        return cost;
    }

    // ---- workers -------------------------------------------------------------------------

    void receive(std::size_t id, const std::vector<record>& batch) {
        worker& w = workers_[id];
        if (!w.alive) return;
        ++w.batches;
        for (const auto& r : batch) {
            w.inbox.push_back(r);
            w.in_hand_tasks += r.tasks;
            ++w.records_in_hand;
        }
        w.hungry = false;
        if (!w.running) start_next(id);
    }

    double service(const record& r) {
        const auto& m = c_.service;
        switch (m.kind) {
            case service_kind::constant:
            case service_kind::tree:
                return m.mean * r.tasks;
            case service_kind::exponential:
                return std::gamma_distribution<double>(r.tasks, m.mean)(rng_);
            case service_kind::lognormal: {
                // Mean m.mean: mu = ln(mean) - sigma^2 / 2.
                std::lognormal_distribution<double> d(std::log(m.mean) - m.sigma * m.sigma / 2,
                                                      m.sigma);
                double sum = 0;
                for (std::uint32_t i = 0; i < r.tasks; ++i) sum += d(rng_);
                return sum;
            }
        }
        return 0;
    }

    void start_next(std::size_t id) {
        worker& w = workers_[id];
        record r;
        bool from_parent = false;
        if (!w.nested.empty()) {
            r = w.nested.back();
            w.nested.pop_back();
        } else if (!w.inbox.empty()) {
            r = w.inbox.front();
            w.inbox.pop_front();
            from_parent = true;
        } else {
            w.running = false;
            flush(id);
            ask(id);
            return;
        }
        w.running = true;
        const double d = service(r) + c_.cost.worker_per_task * r.tasks;
        at(now_ + d, [this, id, r, d, from_parent] { finish(id, r, d, from_parent); });
    }

    void finish(std::size_t id, record r, double d, bool from_parent) {
        worker& w = workers_[id];
        if (!w.alive) return;
        w.busy += d;
        if (tree()) {
            ++nodes_done_;
            std::size_t kids = 0;
            if (r.root) {
                kids = c_.service.root_children;
            } else if (std::bernoulli_distribution(c_.service.q)(rng_)) {
                kids = c_.service.children;
            }
            for (std::size_t k = 0; k < kids; ++k) w.nested.push_back({1, false});
            nodes_made_ += kids;
            if (done()) finished_at_ = now_;
            // Its status: at once when its deque was last reported empty, else periodically.
            if ((w.nested.size() > 1 && !w.reported_depth) || now_ - w.last_status >= status_period)
                report_depth(id);
        }
        if (from_parent) {
            if (w.results.tasks == 0) w.results.since = now_;
            w.results.tasks += r.tasks;
            ++w.results.records;
            // As tide's outbox (worker/outbox.hpp): a full batch, as many as wait unstarted,
            // none waiting, or the oldest 1 ms old.
            if (w.results.records >= c_.batch_max || w.results.records >= w.inbox.size() ||
                now_ - w.results.since >= 1e-3)
                flush(id);
        }
        start_next(id);
    }

    void flush(std::size_t id) {
        worker& w = workers_[id];
        if (w.results.tasks == 0 && !tree()) return;
        const unsent got = std::exchange(w.results, {});
        w.in_hand_tasks -= got.tasks;
        w.records_in_hand -= got.records;
        if (got.tasks == 0) return;
        const std::size_t s = w.parent, slot = w.slot;
        const auto depth = static_cast<std::uint32_t>(w.nested.size());
        at(now_ + transfer(got.tasks * c_.cost.result_bytes), [this, s, slot, got, depth] {
            deliver(s, [this, s, slot, got, depth] {
                nodes_[s].estimates[slot].queued = depth;
                return results(s, slot, got);
            });
        });
    }

    // A busy worker's status: how deep its deque is, for the choice of steal victims.
    static constexpr double status_period = 5e-3;
    void report_depth(std::size_t id) {
        worker& w = workers_[id];
        w.last_status = now_;
        w.reported_depth = !w.nested.empty();
        const std::size_t s = w.parent, slot = w.slot;
        const auto depth = static_cast<std::uint32_t>(w.nested.size());
        at(now_ + transfer(64), [this, s, slot, depth] {
            deliver(s, [this, s, slot, depth] {
                auto& n = nodes_[s];
                n.estimates[slot].queued = depth;
                n.estimates[slot].hungry = false;
                n.robbing[slot] = false;
                refresh(n, slot);
                return 0.0;
            });
        });
    }
    void refresh(scheduler& n, std::size_t slot) const {
        auto& e = n.estimates[slot];
        e.in_hand = static_cast<std::uint32_t>(n.loads[slot].in_hand);
        e.task_seconds = c_.service.mean;
        e.backlog_seconds = static_cast<double>(e.in_hand + e.queued) * e.task_seconds;
    }

    // An idle worker asks for work (once until it gets some).
    void ask(std::size_t id) {
        worker& w = workers_[id];
        if (w.hungry || !w.alive) return;
        w.hungry = true;
        w.reported_depth = false;
        const std::size_t s = w.parent, slot = w.slot;
        const std::uint64_t seen = w.batches;
        at(now_ + transfer(16), [this, s, slot, seen] {
            deliver(s, [this, s, slot, seen] {
                auto& n = nodes_[s];
                // Stale: batches it had not seen when it asked are on their way (as tide's
                // steal_request counts them).
                if (n.batches_sent[slot] > seen) return 0.0;
                n.hungry[slot] = true;
                n.estimates[slot].queued = 0;
                n.estimates[slot].hungry = true;
                return 0.0;
            });
        });
    }

    // A steal order reaches victim v for thief t: half of its deque (the oldest) goes.
    void give(std::size_t v, std::size_t t) {
        worker& w = workers_[v];
        std::vector<record> moved;
        if (w.alive) {
            const std::size_t half = w.nested.size() / 2;
            moved.assign(w.nested.begin(), w.nested.begin() + static_cast<std::ptrdiff_t>(half));
            w.nested.erase(w.nested.begin(), w.nested.begin() + static_cast<std::ptrdiff_t>(half));
        }
        const auto depth = static_cast<std::uint32_t>(w.nested.size());
        const std::size_t vslot = w.slot;
        at(now_ + transfer(16 + moved.size() * c_.cost.task_bytes), [this, vslot, t, moved, depth] {
            deliver(0, [this, vslot, t, moved, depth] {
                auto& n = nodes_[0];
                n.robbing[vslot] = moved.empty();  // a dry victim waits for its next status
                n.estimates[vslot].queued = depth;
                refresh(n, vslot);
                n.thief_waiting[t] = false;
                if (moved.empty()) return 0.0;
                ++r_.steals;
                ++n.batches_sent[t];
                n.hungry[t] = false;
                n.estimates[t].hungry = false;
                const std::size_t thief = n.children[t];
                at(nodes_[0].busy_until + transfer(moved.size() * c_.cost.task_bytes),
                   [this, thief, moved] {
                       worker& tw = workers_[thief];
                       if (!tw.alive) return;
                       ++tw.batches;
                       for (const auto& r : moved) tw.nested.push_back(r);
                       tw.hungry = false;
                       if (!tw.running) start_next(thief);
                   });
                ++r_.rank0_messages;
                return c_.cost.rank0_per_message +
                       c_.cost.rank0_per_record * static_cast<double>(moved.size());
            });
        });
    }

    // ---- loss and growth ------------------------------------------------------------------

    void kill_one() {
        std::optional<std::size_t> victim;
        for (std::size_t i = 0; i < workers_.size(); ++i)
            if (workers_[i].alive &&
                (!victim || workers_[i].in_hand_tasks > workers_[*victim].in_hand_tasks))
                victim = i;
        if (!victim) return;
        worker& w = workers_[*victim];
        w.alive = false;
        w.left = now_;
        --alive_;
        ++r_.deaths;
        const std::size_t s = w.parent, slot = w.slot;
        const std::uint64_t lost = w.in_hand_tasks;  // received, results not sent
        at(now_ + c_.heartbeat, [this, s, slot, lost] {
            deliver(s, [this, s, slot, lost] {
                auto& n = nodes_[s];
                n.loads[slot] = {0, false, 0};
                n.order.update(slot, n.loads[slot]);
                n.estimates[slot] = {};
                n.hungry[slot] = false;
                // A lost range runs again as single tasks (suspects), at the head of the queue.
                for (std::uint64_t k = 0; k < lost; ++k) {
                    n.queue.push_front({1, false});
                    ++n.queue_tasks;
                }
                r_.tasks_rerun += lost;
                return c_.cost.rank0_per_record * static_cast<double>(lost);
            });
        });
    }

    void scale() {
        if (done()) return;
        sched::scaling_input in;
        in.now = now_;
        const double mean = c_.service.mean;
        std::size_t queued = nodes_[0].queue_tasks;
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            const auto& w = workers_[i];
            if (!w.alive) continue;
            queued += w.in_hand_tasks + w.nested.size();
            sched::worker_view v;
            v.phase = sched::worker_phase::active;
            v.spawned = i >= c_.workers;
            v.idle = w.hungry && !w.running;
            in.workers.push_back(v);
        }
        for (std::size_t k = 0; k < starting_; ++k)
            in.workers.push_back({sched::worker_phase::starting, true, false, 0});
        in.queued_tasks = queued;
        in.backlog_seconds = static_cast<double>(queued) * mean;
        const std::size_t present = alive_ + starting_;
        in.slots_free = c_.max_workers > present ? c_.max_workers - present : 0;
        in.spawn_in_flight = starting_ > 0;
        in.spawn_seconds = spawned_once_ ? c_.spawn_seconds : 0;
        const auto d = policy_.tick(in);
        for (std::size_t k = 0; k < d.spawn; ++k) {
            ++starting_;
            ++r_.spawns;
            if (std::bernoulli_distribution(c_.spawn_hang)(rng_)) {
                ++r_.spawns_hung;
                at(now_ + c_.spawn_timeout, [this] {
                    --starting_;
                    policy_.spawn_failed(now_);
                });
            } else {
                at(now_ + c_.spawn_seconds, [this] {
                    --starting_;
                    spawned_once_ = true;
                    policy_.spawn_succeeded();
                    add_worker(now_);
                    wake(workers_.back().parent);
                });
            }
        }
        at(now_ + 0.02, [this] { scale(); });
    }

    const sim_config& c_;
    std::mt19937_64 rng_;
    sched::scaling_policy policy_;
    std::priority_queue<event, std::vector<event>, std::greater<>> events_;
    std::uint64_t seq_ = 0;
    double now_ = 0, finished_at_ = 0;
    std::vector<scheduler> nodes_;
    std::vector<worker> workers_;
    std::vector<std::function<void(double)>> departures_;
    std::int64_t activity_ = 0;
    std::size_t alive_ = 0, starting_ = 0;
    bool spawned_once_ = false;
    std::uint64_t nodes_made_ = 0, nodes_done_ = 0;
    std::size_t leaf_size_ = 1, root_size_ = 1;  // ranges for workers; rank 0's
    sim_result r_;
};

}  // namespace

sim_result simulate(const sim_config& config) { return world(config).run(); }

std::string to_line(const sim_result& r) {
    std::ostringstream o;
    o << "makespan=" << r.makespan << " rank0_busy=" << r.rank0_busy
      << " rank0_share=" << (r.makespan > 0 ? r.rank0_busy / r.makespan : 0)
      << " idle=" << r.idle_fraction << " tasks=" << r.tasks_done << " rerun=" << r.tasks_rerun
      << " rank0_messages=" << r.rank0_messages << " records=" << r.records
      << " steals=" << r.steals << " steal_orders=" << r.steal_orders << " spawns=" << r.spawns
      << " spawns_hung=" << r.spawns_hung << " deaths=" << r.deaths
      << " peak_workers=" << r.peak_workers << " events=" << r.events
      << " host_seconds=" << r.host_seconds;
    return o.str();
}

}  // namespace tide::sim
