// GoogleTest main for multi-rank tests. Every rank runs every test (each test is one tide::run,
// in which rank 0 drives and the others serve); only rank 0 prints, and the failures of all
// ranks are combined once at the end, never per assertion, so ranks never disagree on the
// number of collective calls.

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>

int main(int argc, char** argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    ::testing::InitGoogleTest(&argc, argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (provided < MPI_THREAD_SERIALIZED) {
        if (rank == 0) std::fprintf(stderr, "MPI thread level %d is below SERIALIZED\n", provided);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank != 0) {
        auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
    }
    const int mine = RUN_ALL_TESTS();
    int worst = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return worst;
}
