#pragma once
// The hetex command line: one function per command; each returns the process exit status.
//   0  success
//   1  some input could not be processed (named on stderr); the rest was
//   2  bad usage or a failure before any input was processed

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "hetex/exec/scheduler.hpp"

namespace hetex::cli {

struct Common {
  std::string device = "auto";  // cpu | gpu | auto
};

// A scheduler for --device: cpu pins to the CPU, gpu to the first GPU (an error without one),
// auto lets the adaptive policy choose.
Result<std::unique_ptr<Scheduler>> make_scheduler(const std::string& device);

void add_devices(CLI::App& app, int& status);
void add_sha256(CLI::App& app, Common& common, int& status);
void add_verify(CLI::App& app, Common& common, int& status);
void add_bench(CLI::App& app, Common& common, int& status);
void add_image(CLI::App& app, Common& common, int& status);

}  // namespace hetex::cli
