// SPDX-License-Identifier: MIT
// The calibration file a scheduler loads at start (the cost model's JSON): anything on disk
// loads or is refused with an error, and what loaded saves and loads again.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "hetex/exec/cost_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create("calibration", 0);
  if (fd < 0 || ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  const std::filesystem::path file = "/proc/self/fd/" + std::to_string(fd);
  hetex::CostModel model;
  const bool loaded = model.load(file).has_value();
  ::close(fd);
  if (!loaded) return 0;
  (void)model.predict(hetex::CostModel::Key::alone("op", hetex::DeviceId::cpu(), hetex::Residency::host), 1000);
  const auto saved =
      std::filesystem::temp_directory_path() / ("hetex-fuzz-calibration-" + std::to_string(::getpid()) + ".json");
  if (model.save(saved)) {
    hetex::CostModel again;
    auto st = again.load(saved);
    std::filesystem::remove(saved);
    if (!st) {
      std::fprintf(stderr, "fuzz_calibration: a saved model does not load: %s\n", st.error().describe().c_str());
      std::abort();
    }
  }
  return 0;
}
