// SPDX-License-Identifier: MIT
#pragma once
// Small kernels for the GPU tests, behind host functions so the tests themselves are plain C++.
#include <cstddef>
#include <cstdint>

#include "hetex/core/backend.hpp"

namespace hetex_test {
void add_one(hetex::NativeStream s, std::uint32_t* data, std::size_t n);
// Waits about `microseconds` on the GPU, then adds one to every element.
void slow_add_one(hetex::NativeStream s, std::uint32_t* data, std::size_t n, unsigned microseconds);
void trap(hetex::NativeStream s);
// Reads out of bounds of everything (an illegal address).
void illegal_address(hetex::NativeStream s);
void empty_kernel(hetex::NativeStream s);
void bad_launch(hetex::NativeStream s);  // 4096 threads per block: a launch configuration error
// out[i] = in[i] ^ key for i < n (device memory); nothing for n = 0.
void xor_bytes(hetex::NativeStream s, const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::uint8_t key);
// out[i] = in[i] put through `rounds` steps of a 32-bit LCG: compute-heavy, exact on any device.
void lcg_rounds(hetex::NativeStream s, const std::uint32_t* in, std::uint32_t* out, std::size_t n, unsigned rounds);
#ifdef __CUDACC__
#define HETEX_TEST_HD __host__ __device__
#else
#define HETEX_TEST_HD
#endif
HETEX_TEST_HD inline std::uint32_t lcg_rounds_host(std::uint32_t x, unsigned rounds) {
  for (unsigned r = 0; r < rounds; ++r) x = x * 1664525u + 1013904223u;
  return x;
}
}  // namespace hetex_test
