#pragma once
// Every MPI call goes through TIDE_MPI, which turns an error code into tide::mpi_error naming
// the routine and MPI_Error_string. The runtime's communicator has MPI_ERRORS_RETURN, so codes
// come back instead of aborting the job.

#include <mpi.h>

namespace tide::detail {

[[noreturn]] void throw_mpi_error(const char* routine, int code);

inline void check_mpi(int code, const char* routine) {
    if (code != MPI_SUCCESS) throw_mpi_error(routine, code);
}

}  // namespace tide::detail

#define TIDE_MPI(routine, ...) ::tide::detail::check_mpi(routine(__VA_ARGS__), #routine)
