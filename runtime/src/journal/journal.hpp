#pragma once
// The result journal of --tide-journal=PATH: rank 0 records every driver task that completed
// successfully, and a later run with the same journal answers such a task from it instead of
// running it again.
//
// Opening loads an index (key -> offset) over the file, mapped read-only, so results are read
// only for the tasks submitted again, from the page cache. Appends go to a buffer in memory; a
// writer thread writes it out and makes it durable (fdatasync) every sync interval, when asked
// (the job's end is near, a signal), and when the journal closes. A torn last record (the run
// was killed while writing it) is cut off and reported; damage anywhere else, or a journal of
// another program or salt, is an error unless a flag says what to do.

#include <sys/types.h>

#include <csignal>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "journal/format.hpp"

namespace tide::detail {

struct journal_settings {
    std::string path;
    std::string salt;
    std::string program;         // the program's name, for the header and messages
    std::uint64_t task_set = 0;  // fingerprint of the program's registered tasks
    std::chrono::milliseconds sync{1000};
    bool salvage = false;  // keep the good records of a journal damaged mid-file
    bool adopt = false;    // take over a journal of another program or salt
};

// What opening found, for the log and the statistics.
struct journal_opening {
    std::uint64_t records = 0;                              // results in it (one per key)
    std::uint64_t torn_bytes = 0;                           // a torn last record, cut off
    std::uint64_t damaged_bytes = 0, salvaged_records = 0;  // --tide-journal-salvage
    bool created = false, compacted = false, adopted = false;
};

class result_journal {
public:
    // Opens (or creates) the journal; throws config_error with the reason and the flag that
    // overrides it.
    explicit result_journal(journal_settings settings);
    ~result_journal();
    result_journal(const result_journal&) = delete;
    result_journal& operator=(const result_journal&) = delete;

    const journal_opening& opening() const { return opening_; }
    std::uint64_t salt_hash() const { return salt_hash_; }
    // True when the journal held results at the start (only then is a lookup worth its hash).
    bool has_results() const { return !index_.empty(); }
    // The journaled result of the task with this key, if any (valid while the journal is open).
    std::optional<std::span<const std::byte>> find(const journal_format::key128& key) const;
    // Records one result, staged until publish() hands it to the writer. One thread at a time
    // (rank 0's engine, under its mutex): the lock is taken once per publish, not per result.
    void append(const journal_format::key128& key, std::span<const std::byte> result);
    // Hands what was appended to the writer when enough has been staged or the oldest is 10 ms
    // old at `now` (the caller's clock: rank 0's pump has read it already): durable within the
    // sync interval.
    void publish(std::chrono::steady_clock::time_point now);
    // Results recorded in this run, and the file's size with what is still buffered (for the
    // appending thread).
    std::uint64_t appended() const;
    std::uint64_t size_bytes() const;
    // Asks the writer to make everything appended so far durable now, without waiting.
    void sync_soon();
    // Writes out and syncs what is buffered, then stops the writer, within `limit`; the journal
    // stays readable. False if the writer had not stopped by then (the file system does not
    // answer): it still uses this object, which must then outlive the process's end.
    bool close(std::chrono::milliseconds limit);
    // A SIGTERM or SIGUSR1 (Slurm's time limit, or its warning before it) makes the journal
    // durable at once; after a SIGTERM the process then ends as the signal says. One journal
    // per process can take signals.
    void sync_on_signals();

private:
    void load();
    // Rewrites the file with one record per key (the latest), in file order, under this run's
    // header, replacing the old one atomically; reloads.
    void rewrite(const std::vector<std::size_t>& keep_offsets);
    void map_file();
    void unmap_file();
    void writer_loop();
    // Hands everything staged to the writer (needs mu_).
    void hand_over();
    // Writes and syncs `chunks` (emptying it); a failure is logged, and ends journaling.
    void write_out(std::vector<bytes>& chunks);

    journal_settings settings_;
    std::uint64_t salt_hash_ = 0;
    journal_opening opening_;
    int fd_ = -1;
    const std::byte* map_ = nullptr;  // the file as loaded, read-only
    std::size_t map_size_ = 0;
    // Sorted by key.hi, then offset: 16 bytes a result.
    struct index_entry {
        std::uint64_t key_hi;
        std::uint64_t offset;
    };
    std::vector<index_entry> index_;
    // Where each bucket of keys (by their top bucket_bits_ bits) starts in index_: about 2
    // bytes a result.
    std::vector<std::size_t> bucket_start_;
    unsigned bucket_bits_ = 1;
    void build_buckets();

    mutable std::mutex mu_;
    bytes staged_;  // appended, not yet published (the appending thread's)
    std::size_t staged_records_ = 0;
    std::chrono::steady_clock::time_point last_publish_;
    std::vector<bytes> chunks_;          // published, not yet taken by the writer
    std::vector<bytes> spare_;           // written chunks whose memory the next ones reuse
    std::uint64_t published_bytes_ = 0;  // published, not yet written
    std::uint64_t appended_ = 0;         // published
    std::uint64_t file_size_ = 0;        // written so far
    bool sync_asked_ = false, failed_ = false;
    int signal_pipe_[2] = {-1, -1};
    // Restored at close.
    struct sigaction previous_term_ {};
    struct sigaction previous_usr1_ {};
    std::condition_variable writer_stopped_;
    bool writer_done_ = false;
    std::thread writer_;
};

}  // namespace tide::detail
