// Linked when hetex is built without the CUDA backend (HETEX_CUDA=OFF or no nvcc).
#include "hetex/core/backend.hpp"

namespace hetex::detail {

const GpuDiscovery& discover_gpus() {
  static const GpuDiscovery none{{}, "this hetex was built without CUDA (HETEX_CUDA=OFF or no nvcc at build time)"};
  return none;
}

}  // namespace hetex::detail
