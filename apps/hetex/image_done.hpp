// SPDX-License-Identifier: MIT
#pragma once
// Which outputs of `hetex image --batch` an earlier run finished with the same settings, so that a
// re-run (after Ctrl-C, say) redoes only what is missing, and a run with other settings redoes all.
// OUT_DIR/.hetex-image-done holds a line "<settings>\t<output file name>" per output written,
// appended once the output is renamed into place; a line cut short by a crash names no output.
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "hetex/core/error.hpp"
#include "hetex/ops/image.hpp"
#include "hetex/ops/image_stream.hpp"

namespace hetex::cli {

class DoneRecord {
 public:
  // The record of `out_dir` (empty when there is none yet) for outputs made with `p` at `quality`.
  DoneRecord(const std::filesystem::path& out_dir, const image::Pipeline& p, int quality);

  // Listed with these settings, a whole image, and not older than its input.
  bool done(const image::FileJob& job) const;
  // After job's output was written. Thread-safe.
  void add(const image::FileJob& job);
  // Rewrites the record with one line per output (the latest), whole or not at all; nothing when
  // no output was added (an output directory that got nothing stays empty).
  Status compact();

 private:
  std::filesystem::path file_;
  std::string settings_;
  mutable std::mutex m_;
  std::map<std::string, std::string> settings_of_;  // output file name -> its settings
  bool added_ = false;
};

}  // namespace hetex::cli
