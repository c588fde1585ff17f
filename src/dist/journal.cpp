// SPDX-License-Identifier: MIT
#include "hetex/dist/journal.hpp"

#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "hetex/dist/bytes.hpp"

namespace hetex::dist {

namespace {

constexpr char kMagic[] = "hetex-journal 1\n";
constexpr std::uint32_t kRecordMark = 0x4a52'4858;  // "HXRJ"

using Check = std::array<std::uint8_t, 8>;
Check checksum(std::span<const std::uint8_t> bytes) {
  std::uint8_t d[SHA256_DIGEST_LENGTH];
  SHA256(bytes.data(), bytes.size(), d);
  Check c;
  std::memcpy(c.data(), d, c.size());
  return c;
}

Error io_error(const std::filesystem::path& p, const std::string& what) {
  return Error(Errc::io, "journal " + p.string() + ": " + what + ": " + std::strerror(errno));
}

Status write_all(int fd, const std::uint8_t* p, std::size_t n, const std::filesystem::path& path) {
  while (n) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error(path, "cannot write");
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

std::vector<std::uint8_t> header_bytes(const std::string& fingerprint) {
  std::vector<std::uint8_t> h(kMagic, kMagic + sizeof kMagic - 1);
  ByteWriter w(h);
  w.put_string(fingerprint);
  const auto c = checksum(h);
  h.insert(h.end(), c.begin(), c.end());
  return h;
}

}  // namespace

Result<Journal> Journal::open(const std::filesystem::path& path, const std::string& fingerprint,
                              std::vector<Record>& existing) {
  existing.clear();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(path, "cannot open");
  auto fail = [&](Error e) -> Result<Journal> {
    ::close(fd);
    return e;
  };
  // Read it whole: a journal holds results, not inputs (a few bytes per item).
  std::vector<std::uint8_t> bytes;
  for (std::uint8_t buf[1 << 16];;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail(io_error(path, "cannot read"));
    }
    if (r == 0) break;
    bytes.insert(bytes.end(), buf, buf + r);
  }
  const auto header = header_bytes(fingerprint);
  std::size_t good = 0;  // bytes of the file that are a valid header and whole records
  if (bytes.empty()) {
    if (auto st = write_all(fd, header.data(), header.size(), path); !st) return fail(std::move(st).error());
    good = header.size();
  } else {
    const std::size_t magic = sizeof kMagic - 1;
    if (bytes.size() < magic || std::memcmp(bytes.data(), kMagic, magic) != 0)
      return fail(Error(Errc::invalid_argument, "journal " + path.string() + " is not a hetex journal"));
    if (bytes.size() < header.size() || !std::equal(header.begin(), header.end(), bytes.begin()))
      return fail(
          Error(Errc::invalid_argument,
                "journal " + path.string() +
                    " belongs to another job (other input, options or command): remove it or name another file"));
    good = header.size();
    ByteReader in{std::span<const std::uint8_t>(bytes).subspan(good)};
    for (;;) {
      const std::size_t start = in.position();
      auto mark = in.get<std::uint32_t>();
      auto begin = in.get<std::uint64_t>();
      auto end = in.get<std::uint64_t>();
      auto cost = in.get<double>();
      auto len = in.get<std::uint64_t>();
      if (!mark || !begin || !end || !cost || !len || *mark != kRecordMark) break;
      auto result = in.get_raw(*len);
      if (!result) break;
      const std::size_t body_end = in.position();
      auto check = in.get_raw(sizeof(Check));
      if (!check) break;
      const auto want = checksum(std::span(bytes).subspan(header.size() + start, body_end - start));
      if (!std::equal(want.begin(), want.end(), check->begin()) || *end < *begin) break;
      existing.push_back({{*begin, *end}, *cost, {result->begin(), result->end()}});
      good = header.size() + in.position();
    }
    // A torn or corrupt tail (the machine went down mid-write) is cut off: new records follow
    // the last good one.
    if (good < bytes.size() && ::ftruncate(fd, static_cast<off_t>(good)) != 0)
      return fail(io_error(path, "cannot cut off a damaged tail"));
  }
  ::close(fd);
  const int afd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (afd < 0) return io_error(path, "cannot open for appending");
  return Journal(path, afd, existing.size());
}

Journal::Journal(Journal&& o) noexcept : path_(std::move(o.path_)), fd_(o.fd_), records_(o.records_) { o.fd_ = -1; }
Journal& Journal::operator=(Journal&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = o.fd_;
    records_ = o.records_;
    o.fd_ = -1;
  }
  return *this;
}
Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::append(Range range, double cost, std::span<const std::uint8_t> result) {
  std::vector<std::uint8_t> rec;
  rec.reserve(44 + result.size());
  ByteWriter w(rec);
  w.put(kRecordMark);
  w.put(range.begin);
  w.put(range.end);
  w.put(cost);
  w.put<std::uint64_t>(result.size());
  w.put_raw(std::as_bytes(result));
  const auto c = checksum(rec);
  rec.insert(rec.end(), c.begin(), c.end());
  HETEX_TRY_VOID(write_all(fd_, rec.data(), rec.size(), path_));
  ++records_;
  return {};
}

Status Journal::sync() {
  if (fd_ >= 0 && ::fdatasync(fd_) != 0) return io_error(path_, "cannot sync");
  return {};
}

}  // namespace hetex::dist
