// SPDX-License-Identifier: MIT
#include "kernels.hpp"

#include <algorithm>

namespace hetex_test {
namespace {
__global__ void add_one_kernel(std::uint32_t* d, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    d[i] += 1;
}
__global__ void slow_add_one_kernel(std::uint32_t* d, std::size_t n, unsigned us) {
  if (us) {
    const auto start = clock64();
    // ~1.5 GHz or more on the GPUs we target: 1000 cycles per microsecond is a lower bound.
    while (clock64() - start < static_cast<long long>(us) * 1500) {}
  }
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    d[i] += 1;
}
__global__ void trap_kernel() { __trap(); }
__global__ void illegal_kernel(volatile int* p) { *p = 42; }
__global__ void empty() {}
__global__ void lcg_kernel(const std::uint32_t* in, std::uint32_t* out, std::size_t n, unsigned rounds) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = hetex_test::lcg_rounds_host(in[i], rounds);
}
__global__ void xor_kernel(const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::uint8_t key) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = in[i] ^ key;
}
}  // namespace

void add_one(hetex::NativeStream s, std::uint32_t* data, std::size_t n) { add_one_kernel<<<264, 256, 0, s>>>(data, n); }
void slow_add_one(hetex::NativeStream s, std::uint32_t* data, std::size_t n, unsigned us) {
  slow_add_one_kernel<<<132, 256, 0, s>>>(data, n, us);
}
void trap(hetex::NativeStream s) { trap_kernel<<<1, 1, 0, s>>>(); }
void illegal_address(hetex::NativeStream s) { illegal_kernel<<<1, 1, 0, s>>>(reinterpret_cast<int*>(0x10)); }
void empty_kernel(hetex::NativeStream s) { empty<<<1, 1, 0, s>>>(); }
void lcg_rounds(hetex::NativeStream s, const std::uint32_t* in, std::uint32_t* out, std::size_t n, unsigned rounds) {
  lcg_kernel<<<1056, 256, 0, s>>>(in, out, n, rounds);
}
void bad_launch(hetex::NativeStream s) { empty<<<1, 4096, 0, s>>>(); }
void xor_bytes(hetex::NativeStream s, const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::uint8_t key) {
  if (n) xor_kernel<<<unsigned(std::min<std::size_t>((n + 255) / 256, 1024)), 256, 0, s>>>(in, out, n, key);
}
}  // namespace hetex_test
