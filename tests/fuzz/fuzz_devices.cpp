// SPDX-License-Identifier: MIT
// HETEX_DEVICES: the device list a runtime is restricted to.
#include <string>

#include "hetex/core/runtime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  auto rt = hetex::Runtime::create({.devices = spec, .announce_cpu_only = false});
  if (rt) (void)rt->select(spec);
  (void)hetex::DeviceId::parse(spec);
  return 0;
}
