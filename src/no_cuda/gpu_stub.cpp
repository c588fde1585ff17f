// SPDX-License-Identifier: MIT
// Linked when hetex is built without the CUDA backend (HETEX_CUDA=OFF or no nvcc): a backend that
// finds no device and says why.
#include "hetex/core/backend.hpp"

namespace hetex::detail {
namespace {

class NoCuda final : public Backend {
 public:
  DeviceKind kind() const noexcept override { return DeviceKind::cuda; }
  const GpuDiscovery& discover() override {
    static const GpuDiscovery none{{}, "this hetex was built without CUDA (HETEX_CUDA=OFF or no nvcc at build time)"};
    return none;
  }
};

}  // namespace

Backend& cuda_backend() {
  static NoCuda backend;
  return backend;
}

}  // namespace hetex::detail
