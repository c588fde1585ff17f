// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The journal of a distributed job: every chunk's result, appended as it arrives, so that a run
/// that ended early can be resumed. A file of records, each checksummed:
///
/// @code
/// header:  "hetex-journal 1\n", the job's fingerprint (length-prefixed), checksum
/// record:  begin, end, cost, result length, result bytes, checksum
/// @endcode
///
/// A record is one write(2) on a file opened O_APPEND; the page cache keeps what was written when
/// a process is killed, so a record is lost only when the machine itself goes down before it
/// reaches the disk (sync() forces it there). A record cut short by such a crash fails its
/// checksum: open() drops it and everything after it, and cuts the file there, so new records
/// follow the last good one.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/dist/job.hpp"

namespace hetex::dist {

/// An append-only file of a distributed job's chunk results (see the file's description). Move-only;
/// used by rank 0's engine thread alone.
class Journal {
 public:
  /// One delivered chunk: its range, its cost and its result bytes.
  struct Record {
    Range range;
    double cost = 0;
    std::vector<std::uint8_t> result;
  };

  /// Opens (creating) `path` for the job identified by `fingerprint`. The records already in it
  /// go to `existing`, in file order. An existing journal of another job (another fingerprint)
  /// is an invalid_argument error naming the file; an unreadable one an io error.
  static Result<Journal> open(const std::filesystem::path& path, const std::string& fingerprint,
                              std::vector<Record>& existing);

  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;
  ~Journal();

  /// Adds a record (not yet synced: see sync()); Errc::io naming the file.
  Status append(Range range, double cost, std::span<const std::uint8_t> result);
  Status sync();                                                        ///< fdatasync
  const std::filesystem::path& path() const noexcept { return path_; }  ///< the file
  std::size_t records() const noexcept { return records_; }             ///< records in the file, old and new

 private:
  Journal(std::filesystem::path path, int fd, std::size_t records)
      : path_(std::move(path)), fd_(fd), records_(records) {}
  std::filesystem::path path_;
  int fd_ = -1;
  std::size_t records_ = 0;
};

}  // namespace hetex::dist
