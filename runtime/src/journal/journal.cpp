#include "journal/journal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "platform/log.hpp"
#include "tide/error.hpp"

namespace tide::detail {

namespace jf = journal_format;

namespace {

// Bytes appended past which the writer is woken before its interval is up, so the buffer stays
// small whatever the rate of results.
constexpr std::size_t wake_writer_at = std::size_t{8} << 20;
// Staged results go to the writer in chunks of this size, or this old at the latest: the
// engine's pump costs a clock read, not a lock, and a killed rank 0 loses at most the results
// of this long beyond the sync interval.
constexpr std::size_t publish_at = std::size_t{256} << 10;
constexpr auto publish_within = std::chrono::milliseconds(10);
// Written chunks kept for reuse (up to 40 MiB): at a high rate of results a sync interval
// fills about a hundred, and allocating them afresh costs rank 0 the zeroing of their pages.
constexpr std::size_t max_spare_chunks = 128;
// What the writer is woken for, besides a signal's number.
constexpr char wake_sync = 0, wake_stop = 1;

std::string errno_text() { return std::strerror(errno); }

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// A rename is durable once the directory is.
void sync_directory(const std::string& path) {
    const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;
    ::fsync(dir);
    ::close(dir);
}

bool write_all(int fd, const std::byte* data, std::size_t n) {
    while (n > 0) {
        const auto w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// The writer's end of the pipe a signal handler writes to (one journal per process takes
// signals).
std::atomic<int> signal_fd{-1};

extern "C" void on_journal_signal(int sig) {
    const int saved = errno;
    const char c = static_cast<char>(sig);
    if (const int fd = signal_fd.load(); fd >= 0) [[maybe_unused]]
        auto ignored = ::write(fd, &c, 1);
    errno = saved;
}

[[noreturn]] void refuse(const std::string& text) { throw config_error("tide: " + text); }

// Gives the file at `path` a second name beside it (PATH.SUFFIX, or PATH.SUFFIX.N if that is
// taken), so that replacing it loses nothing; returns that name.
std::string keep_aside(const std::string& path, const std::string& suffix) {
    for (int n = 0; n < 1000; ++n) {
        const auto name = path + suffix + (n == 0 ? "" : "." + std::to_string(n));
        if (::link(path.c_str(), name.c_str()) == 0) return name;
        if (errno != EEXIST) break;
    }
    refuse("cannot keep the journal '" + path + "' as " + path + suffix + ": " + errno_text());
}

}  // namespace

result_journal::result_journal(journal_settings settings) : settings_(std::move(settings)) {
    salt_hash_ = jf::hash64(settings_.salt, 0x5a17);
    fd_ = ::open(settings_.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
        refuse("cannot open the journal '" + settings_.path +
               "' (--tide-journal): " + errno_text());
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        refuse("the journal '" + settings_.path +
               "' is in use by another run (it holds the journal's lock): two runs cannot share "
               "one journal; give this one another --tide-journal");
    }
    try {
        load();
    } catch (...) {
        unmap_file();
        ::close(fd_);
        throw;
    }
    // Non-blocking: neither a signal handler nor rank 0's engine may ever wait on a full pipe
    // (a wake-up already queued is enough).
    if (::pipe2(signal_pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
        refuse("cannot make a pipe: " + errno_text());
    writer_ = std::thread([this] { writer_loop(); });
}

result_journal::~result_journal() {
    close(std::chrono::milliseconds(10000));
    unmap_file();
    if (fd_ >= 0) ::close(fd_);
}

void result_journal::map_file() {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) refuse("cannot stat the journal: " + errno_text());
    map_size_ = static_cast<std::size_t>(st.st_size);
    if (map_size_ == 0) return;
    void* m = ::mmap(nullptr, map_size_, PROT_READ, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) refuse("cannot map the journal '" + settings_.path + "': " + errno_text());
    map_ = static_cast<const std::byte*>(m);
}

void result_journal::unmap_file() {
    if (map_) ::munmap(const_cast<std::byte*>(map_), map_size_);
    map_ = nullptr;
    map_size_ = 0;
}

void result_journal::load() {
    map_file();
    const std::span<const std::byte> file(map_, map_size_);
    const std::string& path = settings_.path;
    if (file.empty()) {
        opening_.created = true;
        rewrite({});
        return;
    }
    std::size_t start = 0;
    std::optional<std::string> bad_header;
    bool adopting = false;  // this load takes over another program's journal
    jf::header h;
    try {
        h = jf::read_header(file, start);
    } catch (const jf::format_error& e) {
        bad_header = e.what();
    }
    if (bad_header && !settings_.salvage)
        refuse("the journal '" + path + "' cannot be used: " + *bad_header +
               ". Nothing was run. To keep whatever records in it still check, start again with "
               "--tide-journal-salvage (the file is kept as " +
               path + ".damaged), or give another --tide-journal");
    if (!bad_header && (h.task_set != settings_.task_set || h.salt_hash != salt_hash_)) {
        const std::string whose =
            h.task_set != settings_.task_set
                ? "another program's: it was written by '" + h.program +
                      "', whose registered tasks differ from this program's ('" +
                      settings_.program + "')"
                : "made with another salt: --tide-journal-salt was '" + h.salt + "', now '" +
                      settings_.salt + "' (a new salt says the tasks' code changed)";
        if (!settings_.adopt)
            refuse("the journal '" + path + "' is " + whose +
                   ". Nothing was run. To use it anyway start again with --tide-journal-adopt "
                   "(with a new salt none of its results apply: it is kept as " +
                   path + ".replaced and a new journal starts), or give another --tide-journal");
        opening_.adopted = adopting = true;
        if (h.salt_hash != salt_hash_) {
            const auto kept = keep_aside(path, ".replaced");
            log().warn("journal {}: {}; adopted: kept as {}, a new journal starts", path, whose,
                       kept);
            opening_.created = true;
            rewrite({});
            return;
        }
        log().warn(
            "journal {}: {}; adopted: its results answer this program's tasks of the same "
            "name and arguments",
            path, whose);
    }

    // The records, and where they end.
    const std::size_t records_from =
        bad_header ? jf::next_good_record(file, 0).value_or(file.size()) : start;
    std::vector<index_entry> entries;
    std::uint64_t record_bytes = 0;
    const auto scanned =
        jf::scan(file, records_from, [&](const jf::record_view& r, std::size_t offset) {
            entries.push_back({r.key.hi, offset});
            record_bytes += r.size();
        });
    if (scanned.damaged_at && !settings_.salvage)
        refuse("the journal '" + path + "' is damaged at byte " +
               std::to_string(*scanned.damaged_at) + " (" + std::to_string(scanned.damaged_bytes) +
               " byte(s) that are not a record, with good records after them). Nothing was run. "
               "To keep the " +
               std::to_string(scanned.records) +
               " records that check (the damaged ones run again), start again with "
               "--tide-journal-salvage (the file is kept as " +
               path + ".damaged), or give another --tide-journal");
    if (scanned.torn_bytes > 0 && !bad_header && !scanned.damaged_at) {
        // The last record was being written when the run that wrote it ended: cut it off.
        log().warn(
            "journal {}: its last record is torn ({} byte(s) at byte {}; the run that "
            "wrote it was killed mid-write): cut off, that task runs again",
            path, scanned.torn_bytes, scanned.good_end);
        opening_.torn_bytes += scanned.torn_bytes;
        unmap_file();
        if (::ftruncate(fd_, static_cast<off_t>(scanned.good_end)) != 0 || ::fdatasync(fd_) != 0)
            refuse("cannot cut the torn end off the journal: " + errno_text());
        load();
        return;
    }

    // One entry per key, the latest; the rest is superseded. Only entries sharing their key's
    // first half (duplicates, or a rare collision of halves) need their records read again.
    std::sort(entries.begin(), entries.end(), [](const index_entry& a, const index_entry& b) {
        return a.key_hi != b.key_hi ? a.key_hi < b.key_hi : a.offset < b.offset;
    });
    std::vector<index_entry> latest;
    latest.reserve(entries.size());
    std::uint64_t superseded = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        bool later_same = false;
        for (std::size_t j = i + 1;
             !later_same && j < entries.size() && entries[j].key_hi == entries[i].key_hi; ++j) {
            const auto mine = jf::read_record(file, entries[i].offset);
            later_same = jf::read_record(file, entries[j].offset)->key == mine->key;
            if (later_same) superseded += mine->size();
        }
        if (!later_same) latest.push_back(entries[i]);
    }
    entries.clear();
    entries.shrink_to_fit();
    const bool damaged = bad_header || scanned.damaged_at;
    if (damaged) {
        opening_.damaged_bytes +=
            scanned.damaged_bytes + (bad_header ? records_from : 0) + scanned.torn_bytes;
        opening_.salvaged_records = latest.size();
        const auto kept = keep_aside(path, ".damaged");
        log().warn(
            "journal {}: damaged ({} byte(s) skipped); salvaged {} result(s), the damaged "
            "file is kept as {}",
            path, opening_.damaged_bytes, latest.size(), kept);
    }
    const bool mostly_superseded = superseded > 0 && 2 * superseded > record_bytes;
    if (damaged || mostly_superseded || adopting) {
        if (mostly_superseded) {
            opening_.compacted = true;
            log().info("journal {}: {} of {} byte(s) of records are superseded: compacting", path,
                       superseded, record_bytes);
        }
        std::vector<std::size_t> keep;
        keep.reserve(latest.size());
        for (const auto& e : latest) keep.push_back(e.offset);
        std::sort(keep.begin(), keep.end());
        latest = {};
        rewrite(keep);
        return;
    }
    index_ = std::move(latest);
    build_buckets();
    opening_.records = index_.size();
    file_size_ = map_size_;
}

void result_journal::rewrite(const std::vector<std::size_t>& keep_offsets) {
    const std::string& path = settings_.path;
    const std::string fresh = path + ".rewrite";
    const int fd = ::open(fresh.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) refuse("cannot write " + fresh + ": " + errno_text());
    // Locked before it takes the journal's name: no other run can take it in between.
    ::flock(fd, LOCK_EX | LOCK_NB);
    bytes out;
    jf::append_header(out, {settings_.task_set, salt_hash_, settings_.program, settings_.salt});
    const std::span<const std::byte> file(map_, map_size_);
    bool ok = true;
    for (const auto offset : keep_offsets) {
        const auto r = jf::read_record(file, offset);
        out.insert(out.end(), file.begin() + static_cast<std::ptrdiff_t>(offset),
                   file.begin() + static_cast<std::ptrdiff_t>(offset + r->size()));
        if (out.size() >= wake_writer_at) {
            ok &= write_all(fd, out.data(), out.size());
            out.clear();
        }
    }
    ok &= write_all(fd, out.data(), out.size());
    if (!ok || ::fdatasync(fd) != 0 || ::rename(fresh.c_str(), path.c_str()) != 0) {
        const auto why = errno_text();
        ::close(fd);
        ::unlink(fresh.c_str());
        refuse("cannot write the journal '" + path + "': " + why);
    }
    sync_directory(path);
    unmap_file();
    ::close(fd_);  // the old file, and its lock
    fd_ = fd;
    load();
}

void result_journal::build_buckets() {
    // About four entries a bucket: keys are hashes, spread evenly over their range.
    bucket_bits_ = 1;
    while (bucket_bits_ < 40 && (std::size_t{1} << bucket_bits_) < index_.size() / 4)
        ++bucket_bits_;
    const std::size_t buckets = std::size_t{1} << bucket_bits_;
    bucket_start_.assign(buckets + 1, 0);
    std::size_t at = 0;
    for (std::size_t b = 0; b <= buckets; ++b) {
        while (at < index_.size() && (index_[at].key_hi >> (64 - bucket_bits_)) < b) ++at;
        bucket_start_[b] = at;
    }
}

std::optional<std::span<const std::byte>> result_journal::find(const jf::key128& key) const {
    if (index_.empty()) return std::nullopt;
    // The key's bucket, then a binary search within it: one or two cache misses, not the
    // twenty of a search over all of a large index.
    const std::size_t b = key.hi >> (64 - bucket_bits_);
    const auto first = index_.begin() + static_cast<std::ptrdiff_t>(bucket_start_[b]);
    const auto last = index_.begin() + static_cast<std::ptrdiff_t>(bucket_start_[b + 1]);
    auto it = std::lower_bound(
        first, last, key.hi, [](const index_entry& e, std::uint64_t hi) { return e.key_hi < hi; });
    const std::span<const std::byte> file(map_, map_size_);
    for (; it != index_.end() && it->key_hi == key.hi; ++it) {
        const auto r = jf::read_record(file, it->offset);
        if (r && r->key == key) return r->payload;
    }
    return std::nullopt;
}

void result_journal::append(const jf::key128& key, std::span<const std::byte> result) {
    jf::append_record(staged_, key, result);
    ++staged_records_;
}

void result_journal::publish(std::chrono::steady_clock::time_point now) {
    if (staged_.empty()) return;
    if (staged_.size() < publish_at && now - last_publish_ < publish_within) return;
    last_publish_ = now;
    std::lock_guard lock(mu_);
    hand_over();
}

void result_journal::hand_over() {
    if (staged_.empty()) return;
    // Handed over whole (no copy); a chunk the writer is done with takes its place.
    published_bytes_ += staged_.size();
    chunks_.push_back(std::move(staged_));
    staged_.clear();
    if (!spare_.empty()) {
        staged_ = std::move(spare_.back());
        spare_.pop_back();
    } else {
        // Sized once: growing by doubling would map fresh (zeroed) pages again and again.
        staged_.reserve(publish_at + (publish_at >> 2));
    }
    appended_ += staged_records_;
    staged_records_ = 0;
    if (published_bytes_ >= wake_writer_at && !sync_asked_) {
        sync_asked_ = true;
        sync_soon();
    }
}

std::uint64_t result_journal::appended() const {
    std::lock_guard lock(mu_);
    return appended_ + staged_records_;
}

std::uint64_t result_journal::size_bytes() const {
    std::lock_guard lock(mu_);
    return file_size_ + published_bytes_ + staged_.size();
}

void result_journal::sync_soon() {
    if (signal_pipe_[1] < 0) return;
    const char c = wake_sync;
    [[maybe_unused]] auto ignored = ::write(signal_pipe_[1], &c, 1);
}

void result_journal::sync_on_signals() {
    signal_fd = signal_pipe_[1];
    struct sigaction sa {};
    sa.sa_handler = on_journal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGTERM, &sa, &previous_term_);
    ::sigaction(SIGUSR1, &sa, &previous_usr1_);
}

bool result_journal::close(std::chrono::milliseconds limit) {
    if (!writer_.joinable()) return true;
    {
        std::unique_lock lock(mu_);
        hand_over();
        const char c = wake_stop;
        [[maybe_unused]] auto ignored = ::write(signal_pipe_[1], &c, 1);
        if (!writer_stopped_.wait_for(lock, limit, [&] { return writer_done_; })) {
            log().error(
                "journal {}: its writer did not finish within {:.1f} s (the file system does not "
                "answer): results of the last {:.1f} s may not be durable",
                settings_.path, limit.count() / 1000.0, settings_.sync.count() / 1000.0);
            writer_.detach();
            return false;
        }
    }
    writer_.join();
    if (signal_fd == signal_pipe_[1]) {
        ::sigaction(SIGTERM, &previous_term_, nullptr);
        ::sigaction(SIGUSR1, &previous_usr1_, nullptr);
        signal_fd = -1;
    }
    ::close(signal_pipe_[0]);
    ::close(signal_pipe_[1]);
    signal_pipe_[0] = signal_pipe_[1] = -1;
    log().info("journal {}: {} result(s) recorded in this run, {} byte(s) in all", settings_.path,
               appended(), size_bytes());
    return true;
}

void result_journal::write_out(std::vector<bytes>& chunks) {
    std::size_t bytes_out = 0;
    bool ok = !failed_;
    for (const auto& c : chunks) {
        if (ok) ok = write_all(fd_, c.data(), c.size());
        bytes_out += c.size();
    }
    if (ok && bytes_out > 0) ok = ::fdatasync(fd_) == 0;
    if (!ok && !failed_) {
        // The run goes on (its results are in memory); a later run runs these tasks again.
        failed_ = true;
        log().error("journal {}: writing failed ({}): results from now on are not journaled",
                    settings_.path, errno_text());
    }
    std::lock_guard lock(mu_);
    published_bytes_ -= bytes_out;
    if (ok) file_size_ += bytes_out;
    for (auto& c : chunks) {
        c.clear();
        if (spare_.size() < max_spare_chunks) spare_.push_back(std::move(c));
    }
    chunks.clear();
}

void result_journal::writer_loop() {
    std::vector<bytes> pending;
    for (;;) {
        pollfd p{signal_pipe_[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(settings_.sync.count()));
        char why[16];
        ssize_t n = 0;
        if (ready > 0) n = ::read(signal_pipe_[0], why, sizeof why);
        std::uint64_t durable = 0;  // results of this run written out with this round
        {
            std::lock_guard lock(mu_);
            pending.swap(chunks_);
            sync_asked_ = false;
            durable = appended_;
        }
        write_out(pending);
        for (ssize_t i = 0; i < n; ++i) {
            if (why[i] == wake_stop) {
                std::lock_guard lock(mu_);
                writer_done_ = true;
                writer_stopped_.notify_all();
                return;
            }
            if (why[i] == SIGUSR1)
                log().warn(
                    "journal {}: SIGUSR1 (the job's end is near): the journal is durable, "
                    "{} result(s) recorded in this run",
                    settings_.path, durable);
            if (why[i] == SIGTERM) {
                log().warn(
                    "journal {}: SIGTERM: the journal is durable ({} result(s) recorded in "
                    "this run); ending as the signal says",
                    settings_.path, durable);
                std::signal(SIGTERM, SIG_DFL);
                ::raise(SIGTERM);
            }
        }
    }
}

}  // namespace tide::detail
