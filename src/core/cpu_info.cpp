// SPDX-License-Identifier: MIT
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "hetex/core/device.hpp"

namespace hetex {

CpuInfo detect_cpu() {
  CpuInfo info;
  info.logical_cores = std::max(1u, std::thread::hardware_concurrency());
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::set<std::pair<std::string, std::string>> cores;  // (physical id, core id)
  std::string physical, flags;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    auto value = colon + 2 <= line.size() ? line.substr(colon + 2) : std::string();
    if (key == "model name" && info.model.empty())
      info.model = value;
    else if (key == "physical id")
      physical = value;
    else if (key == "core id")
      cores.emplace(physical, value);
    else if (key == "flags" && flags.empty())
      flags = value;
  }
  info.physical_cores = static_cast<unsigned>(cores.size());
  if (info.model.empty()) info.model = "unknown CPU";
  // Report the features hetex's CPU paths care about, in a stable order.
  std::set<std::string> have;
  std::istringstream fs(flags);
  for (std::string f; fs >> f;) have.insert(f);
  static const std::pair<const char*, const char*> wanted[] = {{"sse4_2", "sse4.2"},
                                                               {"avx", "avx"},
                                                               {"avx2", "avx2"},
                                                               {"fma", "fma"},
                                                               {"avx512f", "avx512f"},
                                                               {"avx512bw", "avx512bw"},
                                                               {"avx512ifma", "avx512ifma"},
                                                               {"sha_ni", "sha"},
                                                               {"aes", "aes"},
                                                               {"bmi2", "bmi2"},
                                                               {"adx", "adx"}};
  for (auto [flag, name] : wanted)
    if (have.count(flag)) info.simd.emplace_back(name);
  return info;
}

}  // namespace hetex
