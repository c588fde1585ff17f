// SPDX-License-Identifier: MIT
// Linked when hetex is built without CUDA: GPU verification is unavailable (the CPU paths and
// the portable core in ed25519.cpp still work).
#include "hetex/ops/ed25519.hpp"

namespace hetex::ops {

Status ed25519_verify_gpu(std::span<Stream>, const VerifyBatch&, std::span<Verdict>) {
  return Error(Errc::unavailable, "ed25519_verify_gpu: this hetex was built without CUDA (HETEX_CUDA=OFF or no nvcc)");
}

}  // namespace hetex::ops
