// SPDX-License-Identifier: MIT
#include <thrust/copy.h>
#include <thrust/device_vector.h>
#include <thrust/functional.h>
#include <thrust/reduce.h>
#include <thrust/transform.h>

#include <exception>
#include <string>

#include "bench_thrust.hpp"

namespace hetex::cli::bench {

bool thrust_available() noexcept { return true; }

Status thrust_vector_add(const float* a, const float* b, float* c, std::size_t n) {
  // Thrust reports CUDA errors as exceptions; a comparator that fails must not end the run.
  try {
    thrust::device_vector<float> da(a, a + n), db(b, b + n), dc(n);
    thrust::transform(da.begin(), da.end(), db.begin(), dc.begin(), thrust::plus<float>());
    thrust::copy(dc.begin(), dc.end(), c);
    return {};
  } catch (const std::exception& e) {
    return Error(Errc::kernel_fault, std::string("thrust vector add: ") + e.what());
  }
}

namespace {
struct SquareOf {
  __host__ __device__ float operator()(float x) const { return x * x; }
};
struct BelowQuarter {
  __host__ __device__ bool operator()(float y) const { return y < 0.25f; }
};
}  // namespace

Status thrust_map_filter_sum(const float* x, std::size_t n, float& sum) {
  try {
    thrust::device_vector<float> dx(x, x + n), squared(n), kept(n);
    thrust::transform(dx.begin(), dx.end(), squared.begin(), SquareOf{});
    auto end = thrust::copy_if(squared.begin(), squared.end(), kept.begin(), BelowQuarter{});
    sum = thrust::reduce(kept.begin(), end, 0.0f);
    return {};
  } catch (const std::exception& e) {
    return Error(Errc::kernel_fault, std::string("thrust map/filter/sum: ") + e.what());
  }
}

}  // namespace hetex::cli::bench
