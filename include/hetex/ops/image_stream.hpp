// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Many image files through the pipeline, with bounded memory, in order.
///
/// CPU threads read and decode files into pinned staging memory (PinnedPool) while the GPU works:
/// image k's upload runs on one stream, image k-1's kernel on a second, image k-2's download on a
/// third (three device slots, reused); other threads encode and write finished images. At most
/// `in_flight` images are held at once, whatever the number of files, and sizes may differ from
/// file to file. A file that cannot be read, decoded or written gets an error naming it; the
/// others still finish. Without a GPU (or with device "cpu") the pipeline runs on the CPU.
///
/// @code
/// auto jobs = hetex::image::jobs_for_directory("in/", "out/").value();
/// auto report = hetex::image::process_files(jobs, {.pipeline = p, .progress = true});
/// @endcode
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "hetex/ops/image.hpp"

namespace hetex::image {

/// One image file in, one out.
struct FileJob {
  std::string input;
  std::string output;
};

/// How process_files runs: the pipeline, the device, the memory bound and the callbacks.
struct StreamOptions {
  Pipeline pipeline;
  std::string device = "auto";  ///< cpu | gpu (an error without one) | auto
  std::size_t in_flight = 0;    ///< images held at once; 0: 2 per core + 3, at least 6
  bool progress = false;        ///< a progress bar on stderr, drawn only when stderr is a terminal
  int jpeg_quality = 95;        ///< for JPEG outputs, 1 to 100
  /// Called for each file in input order, from one thread at a time.
  std::function<void(std::size_t index, const FileJob& job, const Status& status)> on_done;
  /// Asked before each file is started; once true no more are (those in flight still finish, so
  /// succeeded + failed in the report may be fewer than the jobs).
  std::function<bool()> stop;
};

/// What process_files did.
struct StreamReport {
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::vector<Error> errors;      ///< one per failed file, each naming it, in input order
  std::string device;             ///< "cpu" or the GPU's id
  double seconds = 0;             ///< wall time of the whole run
  std::size_t gpu_fallbacks = 0;  ///< images the GPU failed and the CPU redid
};

/// An error only for bad options (invalid pipeline, device "gpu" without one); file errors are
/// in the report.
Result<StreamReport> process_files(std::span<const FileJob> jobs, const StreamOptions& options);

/// Every .png/.jpg/.jpeg/.ppm/.pgm/.pnm file directly in `in_dir`, sorted by name, each written
/// under the same name in `out_dir` (created if missing). Errc::io when in_dir cannot be listed.
Result<std::vector<FileJob>> jobs_for_directory(const std::string& in_dir, const std::string& out_dir);

}  // namespace hetex::image
