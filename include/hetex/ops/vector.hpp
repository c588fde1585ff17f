// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Element-wise vector arithmetic as batch operations: out[i] = x[i] (+|*) y[i]. The CPU
/// implementation is a loop the compiler vectorizes; the CUDA one streams pieces of the batch
/// through the GPU (upload, kernel, download), so host data of any size works.
///
/// @code
/// std::vector<float> a(n), b(n), c(n);
/// auto report = scheduler->run(hetex::ops::vector_add(), hetex::ZipBatch<float>{a, b}, std::span(c));
/// @endcode

#include <span>

#include "hetex/exec/operation.hpp"

namespace hetex::ops {

enum class VectorKind : std::uint8_t { add, mul };  ///< which element-wise operation

using VectorOperation = Operation<ZipBatch<float>, float>;  ///< out[i] = x[i] op y[i]

const VectorOperation& vector_add();  ///< out[i] = x[i] + y[i], as a scheduler operation
const VectorOperation& vector_mul();  ///< out[i] = x[i] * y[i], as a scheduler operation

/// The implementations, for callers who want one device without a scheduler.
Status vector_cpu(VectorKind kind, const ZipBatch<float>& in, std::span<float> out) noexcept;
Status vector_gpu(GpuLane& lane, VectorKind kind, const ZipBatch<float>& in, std::span<float> out);

}  // namespace hetex::ops
