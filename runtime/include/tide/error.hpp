#pragma once
// Errors tide reports. Every one derives from tide::error, so `catch (const tide::error&)` sees
// them all; what() is always a complete sentence a user can act on.

#include <stdexcept>
#include <string>

namespace tide {

class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A `--tide-*` flag or `TIDE_*` variable is unknown or has a bad value.
class config_error : public error {
public:
    using error::error;
};

// An MPI routine returned an error code.
class mpi_error : public error {
public:
    mpi_error(std::string routine, int code, const std::string& message);
    const std::string& routine() const noexcept { return routine_; }
    int code() const noexcept { return code_; }

private:
    std::string routine_;
    int code_;
};

// A message on the wire did not decode (truncated, lying length, unknown type).
class protocol_error : public error {
public:
    using error::error;
};

// A task did not produce its result: it threw, its name is unknown, or its arguments did not
// match its parameters. Thrown by future::get().
class task_error : public error {
public:
    // worker_lost: every worker that ran it died (see tide::worker_lost).
    enum class kind { threw, unknown_task, bad_arguments, protocol, worker_lost };

    task_error(kind k, std::string task_name, int rank, std::string host, std::string message);

    kind reason() const noexcept { return kind_; }
    const std::string& task_name() const noexcept { return task_name_; }
    int rank() const noexcept { return rank_; }  // MPI rank that ran (or refused) the task
    const std::string& host() const noexcept { return host_; }
    const std::string& message() const noexcept { return message_; }  // the original text

private:
    kind kind_;
    std::string task_name_;
    int rank_;
    std::string host_;
    std::string message_;
};

// A task was running on a worker that died, more times than --tide-max-retries allows (a task
// that kills its worker, for instance by a crash in a library). message() lists the workers
// lost with it, in order. Thrown by future::get() on rank 0; inside a task, a child's loss
// arrives as a task_error whose reason() is kind::worker_lost.
class worker_lost : public task_error {
public:
    using task_error::task_error;
};

}  // namespace tide
