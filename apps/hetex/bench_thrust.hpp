#pragma once
// Thrust, the comparator people reach for on the GPU: host vectors into device_vectors, a
// transform, and back. Compiled only with CUDA (bench_thrust.cu); otherwise unavailable.

#include <cstddef>

#include "hetex/core/error.hpp"

namespace hetex::cli::bench {

bool thrust_available() noexcept;
// c[i] = a[i] + b[i] for n floats in host memory, on the current CUDA device.
Status thrust_vector_add(const float* a, const float* b, float* c, std::size_t n);

}  // namespace hetex::cli::bench
