// SPDX-License-Identifier: MIT
// The list of backends a Runtime discovers, and what the interface decides for all of them.
#include "hetex/core/backend.hpp"

namespace hetex::detail {

std::span<Backend* const> backends() {
  // A backend whose devices are found on the machine adds itself here (and its folder to
  // src/CMakeLists.txt); the simulated GPU is made on request and is not listed.
#if defined(HETEX_WITH_VULKAN)
  static Backend* const all[] = {&cuda_backend(), &vulkan_backend()};
#else
  static Backend* const all[] = {&cuda_backend()};
#endif
  return all;
}

const GpuDiscovery& discover_gpus() { return cuda_backend().discover(); }

FaultClass GpuDevice::classify(const Error& error) const {
  if (!healthy()) return FaultClass::device_retired;
  switch (error.code()) {
    case Errc::out_of_memory: return FaultClass::too_big;
    case Errc::kernel_fault:
    case Errc::device_lost: return FaultClass::device_faulted;
    default: return FaultClass::work_failed;
  }
}

}  // namespace hetex::detail
