#include "tide/error.hpp"

#include "tide/detail/registry.hpp"

namespace tide {

mpi_error::mpi_error(std::string routine, int code, const std::string& message)
    : error("tide: " + routine + " failed (error " + std::to_string(code) + "): " + message),
      routine_(std::move(routine)),
      code_(code) {}

namespace {
const char* describe(task_error::kind k) {
    switch (k) {
        case task_error::kind::threw:
            return "threw";
        case task_error::kind::unknown_task:
            return "is unknown";
        case task_error::kind::bad_arguments:
            return "got arguments that do not match";
        case task_error::kind::protocol:
            return "was lost to a protocol error";
        case task_error::kind::worker_lost:
            return "was lost with its worker";
    }
    return "failed";
}
}  // namespace

task_error::task_error(kind k, std::string task_name, int rank, std::string host,
                       std::string message)
    : error("task '" + task_name + "' " + describe(k) + " on rank " + std::to_string(rank) + " (" +
            host + "): " + message),
      kind_(k),
      task_name_(std::move(task_name)),
      rank_(rank),
      host_(std::move(host)),
      message_(std::move(message)) {}

namespace detail {
void throw_arguments_too_large(const task_entry& entry) {
    throw error("tide: the arguments of task '" + entry.name + "' are larger than the " +
                std::to_string(max_payload) +
                " bytes one message can carry; pass a file name or split the data");
}
}  // namespace detail

}  // namespace tide
