// The result journal: its format (pure), and the file (created in a temporary directory):
// reopening, a torn tail cut at every byte, damage mid-file, another program or salt, a lying
// length, compaction, the lock, and which argument types it can recognise.

#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

#include "journal/journal.hpp"
#include "tide/error.hpp"

namespace tide::detail {
namespace {

namespace jf = journal_format;
namespace fs = std::filesystem;

bytes text_bytes(const std::string& s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return {p, p + s.size()};
}
jf::key128 key_for(int i) { return jf::key_of(42, text_bytes(std::to_string(i)), 7); }
bytes result_for(int i) { return text_bytes("result of " + std::to_string(i)); }

bytes read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> c((std::istreambuf_iterator<char>(in)), {});
    const auto* b = reinterpret_cast<const std::byte*>(c.data());
    return {b, b + c.size()};
}
void write_file(const fs::path& p, std::span<const std::byte> data) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
}

TEST(JournalFormat, KeysSeparateNameArgumentsAndSalt) {
    const auto args = text_bytes("abc");
    const auto k = jf::key_of(1, args, 0);
    EXPECT_EQ(k, jf::key_of(1, args, 0));
    EXPECT_NE(k, jf::key_of(2, args, 0));
    EXPECT_NE(k, jf::key_of(1, text_bytes("abd"), 0));
    EXPECT_NE(k, jf::key_of(1, args, 1));
    EXPECT_NE(k.hi, k.lo);
}

TEST(JournalFormat, AnyFlippedByteOfARecordFailsItsChecks) {
    bytes file;
    jf::append_record(file, key_for(3), result_for(3));
    ASSERT_TRUE(jf::read_record(file, 0));
    EXPECT_EQ(jf::read_record(file, 0)->key, key_for(3));
    for (std::size_t i = 0; i < file.size(); ++i) {
        bytes bad = file;
        bad[i] ^= std::byte{0x10};
        EXPECT_FALSE(jf::read_record(bad, 0)) << "flipped byte " << i;
    }
}

TEST(JournalFormat, HeaderRoundTripsAndRefusesDamage) {
    bytes file;
    jf::append_header(file, {11, 22, "prog", "salt"});
    std::size_t size = 0;
    const auto h = jf::read_header(file, size);
    EXPECT_EQ(size, file.size());
    EXPECT_EQ(h.task_set, 11u);
    EXPECT_EQ(h.salt, "salt");
    EXPECT_EQ(h.program, "prog");
    for (std::size_t i = 0; i < file.size(); ++i) {
        bytes bad = file;
        bad[i] ^= std::byte{1};
        EXPECT_THROW(jf::read_header(bad, size), jf::format_error) << "flipped byte " << i;
    }
    EXPECT_THROW(jf::read_header(text_bytes("hello, world, this is text"), size), jf::format_error);
}

// A journal file in a temporary directory, opened with this test program's identity.
class JournalFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("tide-journal-test-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        path = dir / "results.journal";
    }
    void TearDown() override { fs::remove_all(dir); }
    journal_settings settings(std::uint64_t task_set = 99, std::string salt = "") const {
        journal_settings s;
        s.path = path;
        s.program = "journal_test";
        s.task_set = task_set;
        s.salt = std::move(salt);
        return s;
    }
    fs::path dir, path;
};

TEST_F(JournalFile, ResultsAreFoundAfterReopening) {
    {
        result_journal j(settings());
        EXPECT_TRUE(j.opening().created);
        EXPECT_FALSE(j.has_results());
        for (int i = 0; i < 1000; ++i) j.append(key_for(i), result_for(i));
        EXPECT_EQ(j.appended(), 1000u);
    }
    result_journal j(settings());
    EXPECT_FALSE(j.opening().created);
    EXPECT_EQ(j.opening().records, 1000u);
    for (int i = 0; i < 1000; ++i) {
        const auto r = j.find(key_for(i));
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(bytes(r->begin(), r->end()), result_for(i));
    }
    EXPECT_FALSE(j.find(key_for(1000)));
}

TEST_F(JournalFile, ATornLastRecordIsCutAtEveryByteAndReported) {
    {
        result_journal j(settings());
        for (int i = 0; i < 20; ++i) j.append(key_for(i), result_for(i));
    }
    const auto whole = read_file(path);
    bytes last;
    jf::append_record(last, key_for(19), result_for(19));
    const std::size_t last_at = whole.size() - last.size();
    for (std::size_t cut = last_at; cut < whole.size(); ++cut) {
        write_file(path, std::span(whole).first(cut));
        {
            result_journal j(settings());
            EXPECT_EQ(j.opening().torn_bytes, cut - last_at) << "cut at " << cut;
            EXPECT_EQ(j.opening().records, 19u);
            EXPECT_TRUE(j.find(key_for(18)));
            EXPECT_FALSE(j.find(key_for(19)));
        }
        EXPECT_EQ(fs::file_size(path), last_at) << "repaired on disk, cut at " << cut;
    }
    // Zeros after the last good record (a file system that grew the file before the data
    // reached it) are a torn tail too.
    bytes zeros(whole.begin(), whole.end());
    zeros.resize(zeros.size() + 100);
    write_file(path, zeros);
    result_journal j(settings());
    EXPECT_EQ(j.opening().torn_bytes, 100u);
    EXPECT_EQ(j.opening().records, 20u);
}

TEST_F(JournalFile, AFlippedByteMidFileStopsTheRunUnlessSalvaged) {
    {
        result_journal j(settings());
        for (int i = 0; i < 50; ++i) j.append(key_for(i), result_for(i));
    }
    auto file = read_file(path);
    const std::size_t at = file.size() / 2;
    file[at] ^= std::byte{0x04};
    write_file(path, file);
    try {
        result_journal j(settings());
        FAIL() << "a damaged journal was opened";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("is damaged at byte"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("--tide-journal-salvage"), std::string::npos);
    }
    EXPECT_EQ(read_file(path), file) << "nothing may change without the flag";
    auto s = settings();
    s.salvage = true;
    {
        result_journal j(s);
        EXPECT_EQ(j.opening().salvaged_records, 49u);
        EXPECT_GT(j.opening().damaged_bytes, 0u);
        int found = 0;
        for (int i = 0; i < 50; ++i) found += j.find(key_for(i)) ? 1 : 0;
        EXPECT_EQ(found, 49);
    }
    EXPECT_EQ(read_file(dir / "results.journal.damaged"), file) << "the damaged file is kept";
    result_journal clean(settings());  // the rewritten journal opens without the flag
    EXPECT_EQ(clean.opening().records, 49u);
}

TEST_F(JournalFile, AnotherProgramOrSaltIsRefusedUnlessAdopted) {
    {
        result_journal j(settings(99, "v1"));
        j.append(key_for(1), result_for(1));
    }
    const auto refused = [&](journal_settings s, const std::string& says) {
        try {
            result_journal j(std::move(s));
            ADD_FAILURE() << "opened";
        } catch (const config_error& e) {
            EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("--tide-journal-adopt"), std::string::npos);
        }
    };
    refused(settings(98, "v1"), "another program's");
    refused(settings(99, "v2"), "another salt: --tide-journal-salt was 'v1', now 'v2'");
    auto other = settings(98, "v1");
    other.adopt = true;
    {
        result_journal j(other);
        EXPECT_TRUE(j.opening().adopted);
        EXPECT_TRUE(j.find(key_for(1)));
    }
    result_journal again(settings(98, "v1"));  // now this program's
    EXPECT_EQ(again.opening().records, 1u);
}

TEST_F(JournalFile, ANewSaltAdoptedStartsAfreshAndKeepsTheOldFile) {
    {
        result_journal j(settings(99, "v1"));
        j.append(key_for(1), result_for(1));
    }
    auto s = settings(99, "v2");
    s.adopt = true;
    result_journal j(s);
    EXPECT_TRUE(j.opening().created);
    EXPECT_FALSE(j.has_results());
    EXPECT_TRUE(fs::exists(dir / "results.journal.replaced"));
}

TEST_F(JournalFile, AHugeLengthFieldAllocatesNothingBig) {
    {
        result_journal j(settings());
        for (int i = 0; i < 10; ++i) j.append(key_for(i), result_for(i));
    }
    // A last record whose head checks but claims almost 4 GiB.
    auto file = read_file(path);
    jf::append_record_head(file, key_for(10), 0xfffffff0u, 0);
    write_file(path, file);
    const auto before = mallinfo2().uordblks;
    std::size_t peak_growth = 0;
    {
        result_journal j(settings());
        peak_growth = mallinfo2().uordblks - before;
        EXPECT_EQ(j.opening().torn_bytes, jf::record_head_size);
        EXPECT_EQ(j.opening().records, 10u);
    }
    EXPECT_LT(peak_growth, std::size_t{1} << 20);
}

TEST_F(JournalFile, MostlySupersededIsCompacted) {
    {
        result_journal j(settings());
        for (int round = 0; round < 5; ++round)
            for (int i = 0; i < 100; ++i) j.append(key_for(i), result_for(i));
    }
    const auto before = fs::file_size(path);
    {
        result_journal j(settings());
        EXPECT_TRUE(j.opening().compacted);
        EXPECT_EQ(j.opening().records, 100u);
        EXPECT_TRUE(j.find(key_for(99)));
    }
    EXPECT_LT(fs::file_size(path), before / 4);
    result_journal j(settings());
    EXPECT_FALSE(j.opening().compacted);
}

TEST_F(JournalFile, TwoRunsCannotShareOne) {
    result_journal first(settings());
    try {
        result_journal second(settings());
        FAIL() << "opened twice";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("in use by another run"), std::string::npos);
    }
}

TEST_F(JournalFile, NotAJournalIsRefused) {
    write_file(path, text_bytes("id,result\n1,2\n"));
    try {
        result_journal j(settings());
        FAIL() << "opened";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("not a tide journal"), std::string::npos);
    }
}

// The rule the journal relies on, checked where it is decided: at compile time.
static_assert(all_canonical<int, std::string, std::vector<double>, std::map<int, std::string>>);
static_assert(!all_canonical<std::unordered_map<int, int>>);
static_assert(!all_canonical<std::vector<std::map<int, std::unordered_map<int, int>>>>);

}  // namespace
}  // namespace tide::detail
