// Rank 0 runs an ordinary tide driver; rank 1 is not a tide worker but a hostile peer speaking
// the wire protocol by hand: it answers with a result frame that does not decode, a message of
// unknown type, a result for a task it never had, lying stealing messages, and a rejected batch.
// Rank 0 must turn each into a counted protocol error or a task_error — never a crash, a hang or a
// wrong result. Run on exactly two ranks; exits 0 when rank 0 saw what it should.

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "mpi/transport.hpp"
#include "protocol/wire.hpp"
#include "tide/tide.hpp"

namespace {

int square(int x) { return x * x; }
TIDE_TASK(square);

using namespace tide;
using namespace std::chrono_literals;

// The next message from rank 0 other than a heartbeat.
detail::message wait_for_message(detail::transport& net) {
    detail::message m;
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (!net.try_receive(m) || m.tag == static_cast<int>(wire::msg::heartbeat)) {
        if (std::chrono::steady_clock::now() > give_up) {
            std::fprintf(stderr, "hostile peer: rank 0 sent nothing for 30 s\n");
            MPI_Abort(MPI_COMM_WORLD, 5);
        }
        std::this_thread::sleep_for(1ms);
    }
    return m;
}

std::vector<wire::task_view> take_batch(detail::transport& net, detail::message& m,
                                        std::uint64_t& seq) {
    m = wait_for_message(net);
    std::vector<wire::task_view> tasks;
    if (m.tag != static_cast<int>(wire::msg::task_batch)) {
        std::fprintf(stderr, "hostile peer: expected a task batch, got tag %d\n", m.tag);
        MPI_Abort(MPI_COMM_WORLD, 5);
    }
    seq = wire::decode_task_batch(m.body, tasks).seq;
    return tasks;
}

void send(detail::transport& net, wire::msg type, detail::bytes body) {
    net.send(0, static_cast<int>(type), std::move(body));
}

void hostile_peer() {
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);  // matches the runtime's own dup on rank 0
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    detail::transport net(comm, true, std::chrono::seconds(10));
    send(net, wire::msg::hello, wire::encode(wire::hello{wire::protocol_version, 1, "hostile"}));

    detail::message m;
    std::uint64_t seq = 0;
    // 1. A result frame that claims a result but is cut short.
    auto tasks = take_batch(net, m, seq);
    detail::bytes garbage;
    wire::writer w(garbage);
    w.u32(0);
    w.u32(1);
    w.u64(tasks.at(0).id);
    send(net, wire::msg::result_batch, std::move(garbage));

    // 2. A message type nobody knows, a result for a task this peer never had, then a
    //    rejection of the batch it did get.
    tasks = take_batch(net, m, seq);
    send(net, static_cast<wire::msg>(99), {});
    detail::bytes bogus;
    wire::result_batch_writer rb(bogus);
    rb.begin_result(tasks.at(0).id + 1000);
    rb.end_result(sched::outcome::ok);
    send(net, wire::msg::result_batch, std::move(bogus));
    // Stealing messages that lie: an answer to a steal order never sent, a status whose list
    // claims more entries than it has bytes, a steal request with trailing bytes.
    detail::bytes stolen;
    wire::stolen_head head;
    head.order = 424242;
    head.returned = {tasks.at(0).id};
    wire::stolen_writer sw(stolen, head);
    send(net, wire::msg::stolen, std::move(stolen));
    wire::status st;
    st.durations = {{1, 1, 1.0, 1.0}};
    auto lying_status = wire::encode(st);
    lying_status[4 + 4 + 8 + 8 + 8] = std::byte{200};  // the list's count
    send(net, wire::msg::status, std::move(lying_status));
    auto long_request = wire::encode(wire::steal_request{0, 0});
    long_request.push_back(std::byte{1});
    send(net, wire::msg::steal_request, std::move(long_request));
    // Spans (rank 0 traces only when asked, but checks every message): a count that lies.
    detail::bytes lying_spans;
    wire::spans_writer lw(lying_spans);
    lw.add({tasks.at(0).id, 1, 0.0, 1.0});
    lying_spans[8] = std::byte{5};  // the count: 5 spans in the bytes of one
    send(net, wire::msg::spans, std::move(lying_spans));
    send(net, wire::msg::batch_rejected, wire::encode(wire::batch_rejected{seq, "not today"}));

    // 3. Honest work: run the task and answer properly.
    tasks = take_batch(net, m, seq);
    detail::bytes good;
    wire::result_batch_writer ok(good);
    for (const auto& t : tasks) {
        ok.begin_result(t.id);
        detail::append_values(ok.buffer(), 9);
        ok.end_result(sched::outcome::ok);
    }
    send(net, wire::msg::result_batch, std::move(good));

    m = wait_for_message(net);
    if (m.tag != static_cast<int>(wire::msg::shutdown)) MPI_Abort(MPI_COMM_WORLD, 5);
    send(net, wire::msg::goodbye, wire::encode(wire::goodbye{}));
    net.drain_sends(std::chrono::steady_clock::now() + 10s);
}

bool fails_with_protocol_error(future<int> f, const char* expected_text) {
    try {
        f.get();
    } catch (const task_error& e) {
        std::printf("task_error: %s\n", e.what());
        return e.reason() == task_error::kind::protocol &&
               e.message().find(expected_text) != std::string::npos;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    int rank = 0, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) MPI_Abort(MPI_COMM_WORLD, 6);
    int code = 0;
    if (rank == 1) {
        hostile_peer();
    } else {
        code = tide::run(argc, argv, [](tide::driver& d) -> int {
            bool ok = fails_with_protocol_error(d.submit(square, 1), "did not decode");
            ok &= fails_with_protocol_error(d.submit(square, 2), "not today");
            const int honest = d.submit(square, 3).get();
            std::printf("honest answer: %d\n", honest);
            ok &= honest == 9;
            std::printf("%s\n", ok ? "rank 0 handled every hostile message" : "MISHANDLED");
            return ok ? 0 : 1;
        });
    }
    MPI_Finalize();
    return code;
}
