#pragma once
// Satellites on the batch system's side: Slurm jobs of workers that join this run from
// allocations of their own (--tide-satellites). Rank 0 submits each with sbatch; the job's
// script, written once into the run directory (on a file system the satellites' nodes see),
// reports there that it started and how many tasks it has, waits for rank 0's answer (the ranks
// its workers take and the port they join at, or "cancel"), and runs them with mpirun through
// the run's ompi-server. Nothing here waits: sbatch, squeue and scancel run as child processes
// whose ends poll() takes in, and a job's start shows as a file. No MPI here.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <netinet/in.h>

#include "platform/child_process.hpp"
#include "platform/sbatch_options.hpp"

namespace tide::detail {

struct satellite_launch_settings {
    satellite_request request;
    std::string run_dir;     // shared with the satellites' nodes
    std::string job_name;    // of every satellite's job: names this run's jobs in Slurm
    std::string server_uri;  // the ompi-server's contact
    std::string command;     // what workers run (this program) and its arguments
    std::vector<std::string> args;
    double answer_timeout = 60;  // seconds a started satellite waits for rank 0's answer
};

class satellite_jobs {
public:
    // Makes the run directory and writes the job script. Throws tide::error if it cannot.
    explicit satellite_jobs(satellite_launch_settings settings);
    ~satellite_jobs();
    satellite_jobs(const satellite_jobs&) = delete;
    satellite_jobs& operator=(const satellite_jobs&) = delete;

    const std::string& run_dir() const { return s_.run_dir; }
    const satellite_request& request() const { return s_.request; }

    // Submits satellite `id` (sbatch, in the background).
    void submit(std::uint64_t id);
    // Ends a satellite: one that started and was not answered is told to end; any other is
    // cancelled (scancel; once sbatch has answered if it has not yet).
    void cancel(std::uint64_t id);
    // Answers a started satellite: its workers take ranks from `first` and join at `port`.
    void answer(std::uint64_t id, int first, const std::string& port);
    // Whether the ompi-server satellites join through takes a TCP connection (within
    // `timeout`); true when its contact names no TCP address to try.
    bool server_answers(std::chrono::milliseconds timeout) const;
    const std::string& server() const { return s_.server_uri; }
    // Asks sbatch --test-only when a satellite would start (in the background; the answer
    // comes as a `wait_guess` event).
    void ask_wait();

    struct event {
        enum kind { submitted, submit_failed, started, ended, wait_guess } what = submitted;
        std::uint64_t id = 0;
        std::string job;     // the Slurm job id
        int tasks = 0;       // started: the tasks of its allocation
        std::string detail;  // submit_failed: sbatch's words; ended: the job's state
        double seconds = 0;  // wait_guess
    };
    // What happened since the last call. Never waits; asks squeue at most every 2 s.
    std::vector<event> poll(std::chrono::steady_clock::time_point now);

    // As the run ends: every satellite not started is cancelled, every one started and not
    // answered is told to end. Never waits.
    void stop_queued();
    // At the run's very end: the satellites in `stuck` (their workers did not all end) are
    // cancelled, and so are those whose sbatch answers only now and any of this run's jobs
    // still pending (a submission whose answer was lost); waits until `deadline` for sbatch
    // and scancel.
    void finish(std::chrono::steady_clock::time_point deadline,
                const std::vector<std::uint64_t>& stuck);

private:
    struct job {
        std::string id;  // Slurm's, once sbatch answered
        std::unique_ptr<child_process> sbatch;
        std::chrono::steady_clock::time_point submitted;  // when sbatch was started
        bool started = false, answered = false, cancel_wanted = false, ended = false;
    };
    std::string path(std::uint64_t id, const char* what) const;
    static bool connects(const sockaddr_in& address, std::chrono::milliseconds timeout);
    void run_in_background(std::vector<std::string> argv);  // scancel
    void reap_helpers();                                    // forgets those that ended
    std::string sbatch_said(std::uint64_t id) const;        // sbatch's output for `id`
    static std::string job_id_in(const std::string& said);  // its job id, or empty
    void take_squeue(std::vector<event>& out);
    void write_script() const;
    satellite_launch_settings s_;
    std::map<std::uint64_t, job> jobs_;                    // until their end was reported
    std::vector<event> pending_;                           // for the next poll()
    std::vector<std::unique_ptr<child_process>> helpers_;  // scancel, left to end
    std::unique_ptr<child_process> squeue_, test_only_;
    std::set<std::string> squeue_asked_;  // the jobs the running squeue was asked about
    std::chrono::steady_clock::time_point last_squeue_{};
};

}  // namespace tide::detail
