// baseline_farm: the floor tide's dispatch is measured against. A plain MPI master/worker farm
// doing what tide-bench throughput does — N no-op tasks (a 64-bit id in, the id back out), in
// batches of --batch, with two batches in flight per worker so no worker waits a round trip —
// and nothing else: no registry, no serialization library, no futures.
//   mpirun -n 2 baseline_farm --tasks N [--batch 256] [--repeat R]
// Prints: name=baseline_farm tasks=N workers=W seconds=S rate=R ...

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int tag_work = 1, tag_result = 2, tag_stop = 3;

std::uint64_t arg(int argc, char** argv, const char* name, std::uint64_t fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
    return fallback;
}

double master(int workers, std::uint64_t tasks, std::uint64_t batch) {
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t next = 0, done = 0, checksum = 0;
    std::vector<std::uint64_t> buf(batch);
    auto send_batch = [&](int worker) {
        const auto n = std::min(batch, tasks - next);
        for (std::uint64_t i = 0; i < n; ++i) buf[i] = next + i;
        next += n;
        MPI_Send(buf.data(), static_cast<int>(n), MPI_UINT64_T, worker, tag_work, MPI_COMM_WORLD);
    };
    for (int w = 1; w <= workers; ++w)
        for (int k = 0; k < 2 && next < tasks; ++k) send_batch(w);
    std::vector<std::uint64_t> in(batch);
    while (done < tasks) {
        MPI_Status st;
        MPI_Recv(in.data(), static_cast<int>(batch), MPI_UINT64_T, MPI_ANY_SOURCE, tag_result,
                 MPI_COMM_WORLD, &st);
        int n = 0;
        MPI_Get_count(&st, MPI_UINT64_T, &n);
        for (int i = 0; i < n; ++i) checksum += in[static_cast<std::size_t>(i)];
        done += static_cast<std::uint64_t>(n);
        if (next < tasks) send_batch(st.MPI_SOURCE);
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (checksum != tasks * (tasks - 1) / 2) {
        std::fprintf(stderr, "baseline_farm: wrong checksum\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return s;
}

void worker(std::uint64_t batch) {
    std::vector<std::uint64_t> buf(batch);
    for (;;) {
        MPI_Status st;
        MPI_Recv(buf.data(), static_cast<int>(batch), MPI_UINT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD,
                 &st);
        if (st.MPI_TAG == tag_stop) return;
        int n = 0;
        MPI_Get_count(&st, MPI_UINT64_T, &n);
        // The no-op task: the result is the argument.
        MPI_Send(buf.data(), n, MPI_UINT64_T, 0, tag_result, MPI_COMM_WORLD);
    }
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const auto tasks = arg(argc, argv, "--tasks", 1000000);
    const auto batch = std::max<std::uint64_t>(1, arg(argc, argv, "--batch", 256));
    const auto repeat = std::max<std::uint64_t>(1, arg(argc, argv, "--repeat", 5));
    if (size < 2) {
        if (rank == 0) std::fprintf(stderr, "baseline_farm needs at least two ranks\n");
        MPI_Finalize();
        return 2;
    }
    std::vector<double> runs;
    for (std::uint64_t r = 0; r < repeat; ++r) {
        if (rank == 0) {
            runs.push_back(master(size - 1, tasks, batch));
        } else {
            worker(batch);
        }
        if (rank == 0)
            for (int w = 1; w < size; ++w)
                MPI_Send(nullptr, 0, MPI_UINT64_T, w, tag_stop, MPI_COMM_WORLD);
    }
    if (rank == 0) {
        std::sort(runs.begin(), runs.end());
        const double s = runs[runs.size() / 2];
        std::printf(
            "name=baseline_farm tasks=%llu workers=%d seconds=%.6f rate=%.0f "
            "runs_fastest=%.6f runs_slowest=%.6f batch=%llu\n",
            static_cast<unsigned long long>(tasks), size - 1, s, static_cast<double>(tasks) / s,
            runs.front(), runs.back(), static_cast<unsigned long long>(batch));
    }
    MPI_Finalize();
    return 0;
}
