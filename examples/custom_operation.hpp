// SPDX-License-Identifier: MIT
#pragma once
// SAXPY, out[i] = a * x[i] + y[i], as a user's own hetex operation. The CPU half is in
// custom_operation.cpp; the CUDA half in custom_operation.cu, built only with the CUDA backend.
// Both compute fma(a, x, y): one rounding, so the two devices give the same answers.
#include <span>

#include "hetex/exec/operation.hpp"

namespace example {

using Saxpy = hetex::Operation<hetex::ZipBatch<float>, float>;

#ifdef HETEX_WITH_CUDA
// Host data in, host data out, on the lane's GPU.
hetex::Status saxpy_gpu(hetex::GpuLane& lane, float a, const hetex::ZipBatch<float>& in, std::span<float> out);
#endif

}  // namespace example
