#pragma once
// A process rank 0 starts outside MPI (the launcher of a group of workers on another node), in
// a process group of its own, so that ending it ends whatever it started on this machine too.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tide::detail {

class child_process {
public:
    // Starts `argv` (looked up in PATH) with the environment `env` ("NAME=VALUE" entries), its
    // output (stdout and stderr) into the file `output` if one is named. Throws tide::error
    // when it cannot be started.
    child_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  const std::string& output = {});
    // A child still running is left running (it may outlive rank 0 only as long as its own
    // workers take to notice rank 0 is gone); call end() first to stop it.
    ~child_process() = default;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // How it ended ("exited with 1", "killed by signal 9"), once it has; never waits.
    std::optional<std::string> ended();
    // Asks it and its process group to stop (SIGTERM), and kills them (SIGKILL) if they still
    // run after `grace_ms`; reaps it.
    void end(int grace_ms);

private:
    pid_t pid_ = -1;
    std::optional<std::string> ended_;
};

// One word for a POSIX shell, quoted: a command line handed to a shell (as ssh and a batch
// script do) keeps every argument as it was.
std::string shell_word(const std::string& word);

// This process's environment without what a launcher puts there for its own ranks (OMPI_* and
// PMIX_* settings of this job): a launcher started from a rank must not take them as its own.
// The user's Open MPI settings (OMPI_MCA_* other than the job's) and everything else stay.
std::vector<std::string> environment_for_a_launcher();

}  // namespace tide::detail
