// SPDX-License-Identifier: MIT
#include "image_done.hpp"

#include <cstdio>
#include <string_view>

#include "hetex/core/file.hpp"
#include "hetex/ops/image_io.hpp"

namespace hetex::cli {
namespace {

constexpr const char* kRecordName = ".hetex-image-done";

std::string settings_text(const image::Pipeline& p, int quality) {
  char b[160];
  std::snprintf(b, sizeof b, "gray=%d sigma=%.17g ksize=%d edges=%d threshold=%.17g quality=%d", p.gray ? 1 : 0,
                p.sigma, p.ksize, static_cast<int>(p.edges), p.threshold, quality);
  return b;
}

}  // namespace

DoneRecord::DoneRecord(const std::filesystem::path& out_dir, const image::Pipeline& p, int quality)
    : file_(out_dir / kRecordName), settings_(settings_text(p, quality)) {
  // A record that cannot be read only means that nothing is skipped.
  if (auto bytes = read_file(file_, {.special_files = false})) {
    std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    while (!text.empty()) {
      const auto nl = text.find('\n');
      if (nl == std::string_view::npos) break;  // cut short: names no output
      const auto line = text.substr(0, nl);
      text.remove_prefix(nl + 1);
      const auto tab = line.find('\t');
      if (tab != std::string_view::npos) settings_of_[std::string(line.substr(tab + 1))] = line.substr(0, tab);
    }
  }
}

bool DoneRecord::done(const image::FileJob& job) const {
  namespace fs = std::filesystem;
  {
    std::lock_guard lock(m_);
    auto it = settings_of_.find(fs::path(job.output).filename().string());
    if (it == settings_of_.end() || it->second != settings_) return false;
  }
  std::error_code ec;
  const auto out_time = fs::last_write_time(job.output, ec);
  if (ec) return false;
  const auto in_time = fs::last_write_time(job.input, ec);
  return !ec && out_time >= in_time && image::check_complete(job.output);
}

void DoneRecord::add(const image::FileJob& job) {
  const std::string name = std::filesystem::path(job.output).filename().string();
  if (name.find('\n') != std::string::npos) return;  // cannot be listed: redone next time
  std::lock_guard lock(m_);
  settings_of_[name] = settings_;
  added_ = true;
  // Best effort: an output missing from the record is only redone by the next run.
  if (std::FILE* f = std::fopen(file_.c_str(), "ae")) {
    std::fprintf(f, "%s\t%s\n", settings_.c_str(), name.c_str());
    std::fclose(f);
  }
}

Status DoneRecord::compact() {
  std::string text;
  {
    std::lock_guard lock(m_);
    if (!added_) return {};
    for (const auto& [name, settings] : settings_of_) text += settings + "\t" + name + "\n";
  }
  return write_file_atomic(file_, text);
}

}  // namespace hetex::cli
