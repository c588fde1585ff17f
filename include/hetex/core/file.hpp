// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Files named by users: read with one clear error per file, written so that no reader ever sees
/// half a file.
///
/// @code
/// auto bytes = hetex::read_file("photo.png");          // Errc::io naming the file and why
/// hetex::write_file_atomic("report.json", text);       // whole new contents, or the old file
/// @endcode
///
/// Reading: a directory, a missing or unreadable file, a file truncated, grown or rewritten while
/// it is read each give an Errc::io error naming the path. FIFOs and character devices are read
/// as streams (as sha256sum does) unless InputOptions::special_files is false, in which case
/// they are refused without blocking.
///
/// Writing: the contents go to a hidden temporary file in the destination's directory (same file
/// system), which is renamed over the destination once complete. A killed process leaves the old
/// file (or none) and at most a hidden ".NAME.PID-N.tmp" beside it, never a truncated NAME. The
/// data is not fsync'ed: this protects against the process dying, not against power loss.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex {

/// How InputFile::open and read_file treat special files and interruption.
struct InputOptions {
  /// FIFOs and character devices are read until their end; false: refused (only regular files).
  bool special_files = true;
  /// When set (e.g. by a SIGINT handler), a wait for a FIFO's writer or for a stream's next bytes
  /// gives up with Errc::cancelled within 0.1 s, whichever thread the signal interrupted.
  const std::atomic<bool>* stop = nullptr;
};

/// An open input file. Move-only; closes on destruction.
class InputFile {
 public:
  /// Errc::io naming `path` (missing, a directory, not readable, a socket...); Errc::cancelled
  /// when options.stop was set while a FIFO's open waited for a writer.
  static Result<InputFile> open(const std::filesystem::path& path, InputOptions options = {});
  /// Standard input (not closed by this object); `name` is used in errors.
  static InputFile standard_input(std::string name = "standard input", InputOptions options = {});

  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&& other) noexcept;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  /// Up to buf.size() bytes; 0 at the end. For a regular file the end is the size it had when
  /// opened: a file that was truncated or grew meanwhile is an Errc::io error, as is one whose
  /// modification time changed by the end.
  Result<std::size_t> read(std::span<std::uint8_t> buf);
  /// The size when opened, for a regular file; 0 otherwise (unknown).
  std::uint64_t size_hint() const noexcept { return regular_ ? size_ : 0; }
  const std::string& name() const noexcept { return name_; }  ///< the path (or the name given) as errors cite it

 private:
  InputFile(int fd, bool owned, std::string name, InputOptions options) noexcept;
  Status check_unchanged();
  Error io_error(std::string_view what, int err) const;

  int fd_ = -1;
  bool owned_ = false;
  std::string name_;
  InputOptions options_;
  bool regular_ = false;
  bool at_end_ = false;
  std::uint64_t size_ = 0, offset_ = 0;
  std::int64_t mtime_ns_ = 0;
};

/// The whole file. Errors as InputFile's, and Errc::out_of_memory when it does not fit in memory.
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path, InputOptions options = {});
/// The rest of an opened input (standard input, say).
Result<std::vector<std::uint8_t>> read_all(InputFile& in);

/// Replaces `path` with `bytes` through a temporary file and a rename (see above). Errc::io
/// naming `path` when the directory is missing or not writable, or the disk is full; the
/// destination is then unchanged and no temporary file is left.
Status write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
Status write_file_atomic(const std::filesystem::path& path, std::string_view text);  ///< as above, for text
/// For outputs too large to hold: `write` streams the contents into the (buffered) temporary
/// file; an error it returns is returned, and the destination is then unchanged.
Status write_file_atomic(const std::filesystem::path& path, const std::function<Status(std::FILE*)>& write);

/// Where hetex keeps what it may recompute (calibration, compiled kernels): $XDG_CACHE_HOME/hetex,
/// else ~/.cache/hetex, else hetex in the temporary directory. Not created here.
std::filesystem::path cache_directory();

}  // namespace hetex
