// SPDX-License-Identifier: MIT
#pragma once
// Runs `promtool check metrics` (Debian package prometheus) on an exposition: Prometheus' own
// parser and linter, the reference for what a scraper accepts.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hetex_test {

inline std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

struct CheckResult {
  int exit_status = -1;
  std::string output;  // stdout and stderr together
};

inline CheckResult promtool_check(const std::string& promtool, const std::string& exposition) {
  static int n = 0;
  const auto dir = std::filesystem::temp_directory_path();
  const auto stem = "hetex_promtool_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  const auto in = dir / (stem + ".prom"), out = dir / (stem + ".out");
  std::ofstream(in, std::ios::binary) << exposition;
  const std::string cmd = "'" + promtool + "' check metrics < '" + in.string() + "' > '" + out.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  CheckResult r;
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream o(out, std::ios::binary);
  r.output.assign(std::istreambuf_iterator<char>(o), {});
  std::filesystem::remove(in);
  std::filesystem::remove(out);
  return r;
}

#define REQUIRE_PROMTOOL(var)                                   \
  const std::string var = hetex_test::find_on_path("promtool"); \
  if (var.empty()) GTEST_SKIP() << "promtool is not on PATH (it comes with the Debian package prometheus)"

}  // namespace hetex_test
