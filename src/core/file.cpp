// SPDX-License-Identifier: MIT
#include "hetex/core/file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

namespace hetex {
namespace {

std::int64_t mtime_ns(const struct stat& st) {
  return std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Error cancelled(const std::string& name) { return Error(Errc::cancelled, name + ": interrupted"); }

bool stopping(const InputOptions& o) { return o.stop && o.stop->load(std::memory_order_relaxed); }

// Waits until fd is readable (data, end or hang-up). With a stop flag the wait is sliced: the
// signal that set the flag may have been taken by another thread, or just before the wait began,
// and then interrupts nothing here. nullopt when readable; the error otherwise.
std::optional<Error> wait_readable(int fd, const InputOptions& o, const std::string& name) {
  const int slice_ms = o.stop ? 100 : -1;
  for (;;) {
    if (stopping(o)) return cancelled(name);
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, slice_ms);
    if (n > 0) return std::nullopt;
    if (n < 0 && errno != EINTR) return Error(Errc::io, name + ": cannot wait for input: " + std::strerror(errno));
  }
}

}  // namespace

InputFile::InputFile(int fd, bool owned, std::string name, InputOptions options) noexcept
    : fd_(fd), owned_(owned), name_(std::move(name)), options_(options) {}

InputFile::InputFile(InputFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      owned_(o.owned_),
      name_(std::move(o.name_)),
      options_(o.options_),
      regular_(o.regular_),
      at_end_(o.at_end_),
      size_(o.size_),
      offset_(o.offset_),
      mtime_ns_(o.mtime_ns_) {}

InputFile& InputFile::operator=(InputFile&& o) noexcept {
  if (this != &o) {
    if (owned_ && fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    owned_ = o.owned_;
    name_ = std::move(o.name_);
    options_ = o.options_;
    regular_ = o.regular_;
    at_end_ = o.at_end_;
    size_ = o.size_;
    offset_ = o.offset_;
    mtime_ns_ = o.mtime_ns_;
  }
  return *this;
}

InputFile::~InputFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Error InputFile::io_error(std::string_view what, int err) const {
  return Error(Errc::io, name_ + ": " + std::string(what) + ": " + std::strerror(err));
}

InputFile InputFile::standard_input(std::string name, InputOptions options) {
  return InputFile(STDIN_FILENO, false, std::move(name), options);
}

Result<InputFile> InputFile::open(const std::filesystem::path& path, InputOptions options) {
  const std::string name = path.string();
  // Non-blocking, so that a FIFO without a writer cannot hang the open before we know what it is.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    struct stat st {};
    if (err == ENXIO && ::stat(path.c_str(), &st) == 0) return Error(Errc::io, name + ": is " + kind_of(st.st_mode));
    return Error(Errc::io, name + ": cannot open: " + std::strerror(err));
  }
  InputFile f(fd, true, name, options);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return f.io_error("cannot stat", errno);
  const bool special = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
  if (!S_ISREG(st.st_mode) && !(special && options.special_files))
    return Error(Errc::io, name + ": is " + kind_of(st.st_mode) + (special ? ", not a regular file" : ""));
  if (S_ISFIFO(st.st_mode)) {
    // Read as sha256sum does: wait for a writer, then read to its end. A blocking reopen could
    // miss a writer that came and went meanwhile; poll on this descriptor reports its data or
    // its hang-up, and waits while no writer has come yet.
    if (auto e = wait_readable(fd, options, name)) return std::move(*e);
  }
  if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) return f.io_error("cannot open", errno);
  // A regular file of size 0 may still have contents (/proc): it is read as a stream.
  f.regular_ = S_ISREG(st.st_mode) && st.st_size > 0;
  f.size_ = static_cast<std::uint64_t>(st.st_size);
  f.mtime_ns_ = mtime_ns(st);
  return f;
}

Status InputFile::check_unchanged() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_error("cannot stat", errno);
  if (static_cast<std::uint64_t>(st.st_size) != size_)
    return Error(Errc::io, name_ + ": changed while being read (size " + std::to_string(size_) + " -> " +
                               std::to_string(st.st_size) + " bytes)");
  if (mtime_ns(st) != mtime_ns_) return Error(Errc::io, name_ + ": changed while being read (rewritten in place)");
  return {};
}

Result<std::size_t> InputFile::read(std::span<std::uint8_t> buf) {
  if (at_end_ || buf.empty()) return std::size_t{0};
  if (stopping(options_)) return cancelled(name_);
  // A regular file ends where it ended when opened; one byte more is read to see it did not grow.
  std::uint8_t probe = 0;
  std::span<std::uint8_t> into = buf;
  if (regular_)
    into = offset_ < size_ ? buf.first(std::min<std::uint64_t>(buf.size(), size_ - offset_))
                           : std::span<std::uint8_t>(&probe, 1);
  for (;;) {
    // A stream may block for ever (a terminal, a pipe nobody writes): wait where Ctrl-C can end it.
    if (!regular_ && options_.stop)
      if (auto e = wait_readable(fd_, options_, name_)) return std::move(*e);
    const ssize_t n = ::read(fd_, into.data(), into.size());
    if (n > 0) {
      if (regular_ && offset_ == size_)
        return Error(Errc::io,
                     name_ + ": changed while being read (it grew beyond its " + std::to_string(size_) + " bytes)");
      offset_ += static_cast<std::uint64_t>(n);
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      at_end_ = true;
      if (!regular_) return std::size_t{0};
      if (offset_ < size_)
        return Error(Errc::io, name_ + ": changed while being read (truncated to " + std::to_string(offset_) + " of " +
                                   std::to_string(size_) + " bytes)");
      HETEX_TRY_VOID(check_unchanged());
      return std::size_t{0};
    }
    if (errno == EINTR) {
      if (stopping(options_)) return cancelled(name_);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {  // a non-blocking descriptor we did not open
      if (auto e = wait_readable(fd_, options_, name_)) return std::move(*e);
      continue;
    }
    return io_error("read error", errno);
  }
}

Result<std::vector<std::uint8_t>> read_all(InputFile& in) {
  // Reads of at most this much: a stop request is seen between them.
  constexpr std::size_t kPiece = std::size_t(64) << 20;
  std::vector<std::uint8_t> bytes;
  try {
    // A regular file goes straight into a buffer of its size; a stream into a growing one.
    const std::size_t size = static_cast<std::size_t>(in.size_hint());
    if (size) bytes.reserve(size);
    for (;;) {
      const std::size_t have = bytes.size();
      if (size && have == size) {
        std::uint8_t probe = 0;  // all there: only the end (or a change) is left to see
        if (HETEX_TRY(in.read(std::span(&probe, 1))) == 0) return bytes;
        continue;
      }
      const std::size_t room = size ? size - have : std::max(bytes.capacity() - have, std::size_t(1) << 16);
      bytes.resize(have + std::min(room, kPiece));
      const std::size_t got = HETEX_TRY(in.read(std::span(bytes).subspan(have)));
      bytes.resize(have + got);
      if (got == 0) return bytes;
    }
  } catch (const std::bad_alloc&) {
    return Error(Errc::out_of_memory,
                 in.name() + ": too large to read into memory (" + std::to_string(bytes.size()) + " bytes read)");
  }
}

Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path, InputOptions options) {
  auto in = HETEX_TRY(InputFile::open(path, options));
  return read_all(in);
}

namespace {

// The hidden temporary file beside `path` that write_file_atomic fills and renames: unique per
// process and call, and not ending in the destination's extension (so a directory listing by
// extension never picks it up).
std::filesystem::path temporary_beside(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // Appended piece by piece: g++ 12 warns (-Wrestrict, a false positive) on "." + std::string.
  std::string tmp_name = ".";
  tmp_name += path.filename().string();
  tmp_name += '.';
  tmp_name += std::to_string(::getpid());
  tmp_name += '-';
  tmp_name += std::to_string(counter.fetch_add(1));
  tmp_name += ".tmp";
  return dir / tmp_name;
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, const std::function<Status(std::FILE*)>& write) {
  const std::string name = path.string();
  if (!path.has_filename()) return Error(Errc::io, name + ": not a file name");
  const std::filesystem::path tmp = temporary_beside(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    return Error(Errc::io,
                 name + ": cannot create a file in " + tmp.parent_path().string() + ": " + std::strerror(errno));
  }
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error(Errc::io, name + ": " + std::strerror(err));
  }
  // A replaced file keeps its permissions (a private file stays private).
  struct stat old_file {};
  if (::stat(path.c_str(), &old_file) == 0 && S_ISREG(old_file.st_mode)) (void)::fchmod(fd, old_file.st_mode & 07777);
  std::vector<char> buffer(std::size_t(1) << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  Status st;
  try {
    st = write(f);
  } catch (const std::bad_alloc&) {
    st = Error(Errc::out_of_memory, name + ": out of memory while writing");
  } catch (const std::exception& e) {
    st = Error(Errc::internal, name + ": " + e.what());
  }
  const bool written = std::fflush(f) == 0 && !std::ferror(f);
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (st && !(written && closed)) st = Error(Errc::io, name + ": write failed: " + std::strerror(err));
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0)
    st = Error(Errc::io, name + ": cannot replace the file: " + std::strerror(errno));
  if (!st) ::unlink(tmp.c_str());
  return st;
}

Status write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  return write_file_atomic(path, [&](std::FILE* f) -> Status {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
      return Error(Errc::io, path.string() + ": write failed: " + std::strerror(errno));
    return {};
  });
}

std::filesystem::path cache_directory() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "hetex";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "hetex";
  return std::filesystem::temp_directory_path() / "hetex";
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  return write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace hetex
