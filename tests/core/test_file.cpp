// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hetex/core/file.hpp"

using namespace hetex;
namespace fs = std::filesystem;

namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hetex-file-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path put(const std::string& name, const std::string& contents) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }
  static std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

void expect_io_error(const Result<std::vector<std::uint8_t>>& r, const std::string& name, const std::string& why) {
  ASSERT_FALSE(r) << "read succeeded";
  EXPECT_EQ(r.error().code(), Errc::io);
  EXPECT_NE(r.error().message().find(name), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
}

TEST_F(FileTest, ReadsARegularFileWhole) {
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7);
  auto r = read_file(put("a.bin", big));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(text(*r), big);
  auto empty = read_file(put("empty", ""));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_F(FileTest, MissingFileAndDirectoryAreNamedErrors) {
  expect_io_error(read_file(dir_ / "nope.txt"), "nope.txt", "No such file");
  expect_io_error(read_file(dir_), dir_.string(), "is a directory");
}

TEST_F(FileTest, UnreadableFileIsANamedError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const auto p = put("secret", "x");
  fs::permissions(p, fs::perms::none);
  expect_io_error(read_file(p), "secret", "Permission denied");
}

TEST_F(FileTest, SizeZeroRegularFilesAreReadAsStreams) {
  // /proc files say size 0 yet have contents.
  auto r = read_file("/proc/self/status");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_NE(text(*r).find("Name:"), std::string::npos);
}

TEST_F(FileTest, AFileThatGrewWhileReadIsAnError) {
  const auto p = put("log", "12345");
  auto in = InputFile::open(p);
  ASSERT_TRUE(in);
  std::ofstream(p, std::ios::app) << "678";
  auto r = read_all(*in);
  expect_io_error(r, "log", "grew beyond its 5 bytes");
}

TEST_F(FileTest, AFileTruncatedWhileReadIsAnError) {
  const auto p = put("data", std::string(1000, 'a'));
  auto in = InputFile::open(p);
  ASSERT_TRUE(in);
  std::uint8_t buf[100];
  ASSERT_EQ(*in->read(buf), 100u);
  fs::resize_file(p, 400);
  auto r = read_all(*in);
  expect_io_error(r, "data", "truncated to 400 of 1000 bytes");
}

TEST_F(FileTest, AFileRewrittenInPlaceWhileReadIsAnError) {
  const auto p = put("data", "abcdef");
  auto in = InputFile::open(p);
  ASSERT_TRUE(in);
  // Same size, new contents, a modification time set explicitly (the clock may be coarse).
  std::fstream(p, std::ios::in | std::ios::out | std::ios::binary) << "ABC";
  const timespec times[2] = {{0, UTIME_OMIT}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  expect_io_error(read_all(*in), "data", "rewritten in place");
}

TEST_F(FileTest, AFileRemovedWhileOpenIsStillReadWhole) {
  const auto p = put("gone", "still here");
  auto in = InputFile::open(p);
  ASSERT_TRUE(in);
  fs::remove(p);
  auto r = read_all(*in);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(text(*r), "still here");
  expect_io_error(read_file(p), "gone", "No such file");
}

TEST_F(FileTest, AFifoIsRefusedWithoutBlockingWhenOnlyRegularFilesAreWanted) {
  const auto p = dir_ / "pipe.png";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto r = read_file(p, {.special_files = false});
  expect_io_error(r, "pipe.png", "is a FIFO, not a regular file");
}

TEST_F(FileTest, AFifoIsReadToItsEndAsAStream) {
  const auto p = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(p) << "through the pipe"; });  // opening blocks until the reader opens
  auto r = read_file(p);
  writer.join();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(text(*r), "through the pipe");
}

// The flag is set from another thread, as a signal handler running there would: nothing
// interrupts the waiting thread, and it still gives up.
TEST_F(FileTest, AStopFlagEndsAWaitForAFifoWriter) {
  const auto p = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  std::atomic<bool> stop{false};
  std::thread setter([&] { stop = true; });
  auto r = read_file(p, {.special_files = true, .stop = &stop});
  setter.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::cancelled);
  EXPECT_NE(r.error().message().find("pipe: interrupted"), std::string::npos) << r.error().message();
}

TEST_F(FileTest, AStopFlagEndsAReadWaitingOnAStream) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "abc", 3), 3);  // the writer stays open and sends nothing more
  std::atomic<bool> stop{false};
  auto in = InputFile::open("/proc/self/fd/" + std::to_string(fds[0]), {.special_files = true, .stop = &stop});
  ASSERT_TRUE(in) << in.error().describe();
  std::uint8_t buf[16];
  ASSERT_EQ(*in->read(buf), 3u);
  std::thread setter([&] { stop = true; });
  auto r = in->read(buf);
  setter.join();
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::cancelled);
}

TEST_F(FileTest, AtomicWriteCreatesAndReplacesLeavingNoTemporaryFile) {
  const auto p = dir_ / "report.json";
  ASSERT_TRUE(write_file_atomic(p, std::string_view("first")));
  ASSERT_TRUE(write_file_atomic(p, std::string_view("second, longer")));
  EXPECT_EQ(text(*read_file(p)), "second, longer");
  EXPECT_EQ(listing(), std::vector<std::string>{"report.json"});
  const std::vector<std::uint8_t> bytes{0, 1, 2, 255};
  ASSERT_TRUE(write_file_atomic(dir_ / "b.bin", bytes));
  EXPECT_EQ(*read_file(dir_ / "b.bin"), bytes);
}

TEST_F(FileTest, AtomicWriteIntoAMissingDirectoryIsANamedError) {
  auto s = write_file_atomic(dir_ / "no" / "such" / "x.png", std::string_view("x"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::io);
  EXPECT_NE(s.error().message().find("x.png"), std::string::npos) << s.error().message();
}

TEST_F(FileTest, AtomicWriteOverADirectoryFailsAndLeavesNothingBehind) {
  fs::create_directory(dir_ / "out.png");
  auto s = write_file_atomic(dir_ / "out.png", std::string_view("x"));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("cannot replace"), std::string::npos) << s.error().message();
  EXPECT_EQ(listing(), std::vector<std::string>{"out.png"});
  EXPECT_TRUE(fs::is_directory(dir_ / "out.png"));
}

TEST_F(FileTest, ReadersOfAFileBeingReplacedSeeOneWholeVersion) {
  const auto p = dir_ / "state";
  const std::string a(1 << 20, 'a'), b(1 << 19, 'b');
  ASSERT_TRUE(write_file_atomic(p, a));
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) (void)write_file_atomic(p, i % 2 ? a : b);
    writing = false;
  });
  int reads = 0;
  while (writing || reads == 0) {
    auto r = read_file(p);
    ASSERT_TRUE(r) << r.error().describe();
    const std::string got = text(*r);
    ASSERT_TRUE(got == a || got == b) << "a torn read of " << got.size() << " bytes";
    ++reads;
  }
  writer.join();
}

TEST_F(FileTest, AStreamedAtomicWriteLandsWholeOrLeavesTheOldFile) {
  const auto p = dir_ / "blocks.txt";
  ASSERT_TRUE(write_file_atomic(p, std::string_view("old")));
  std::string expected;
  auto st = write_file_atomic(p, [&](std::FILE* f) -> Status {
    for (int i = 0; i < 100000; ++i) {
      const std::string line = std::to_string(i) + "\n";
      expected += line;
      std::fputs(line.c_str(), f);
    }
    return {};
  });
  ASSERT_TRUE(st) << st.error().describe();
  EXPECT_EQ(text(*read_file(p)), expected);
  // A writer that fails part way: its error comes back, the old contents stay, no temporary.
  st = write_file_atomic(p, [](std::FILE* f) -> Status {
    std::fputs("half", f);
    return Error(Errc::invalid_argument, "the input ended early");
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  EXPECT_EQ(text(*read_file(p)), expected);
  EXPECT_EQ(listing(), std::vector<std::string>{"blocks.txt"});
}

}  // namespace
