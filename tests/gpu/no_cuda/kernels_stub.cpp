// SPDX-License-Identifier: MIT
// Without the CUDA backend the GPU tests skip before calling any kernel.
#include <cstdlib>

#include "../kernels.hpp"

namespace hetex_test {
void add_one(hetex::NativeStream, std::uint32_t*, std::size_t) { std::abort(); }
void slow_add_one(hetex::NativeStream, std::uint32_t*, std::size_t, unsigned) { std::abort(); }
void trap(hetex::NativeStream) { std::abort(); }
void illegal_address(hetex::NativeStream) { std::abort(); }
void empty_kernel(hetex::NativeStream) { std::abort(); }
void bad_launch(hetex::NativeStream) { std::abort(); }
void xor_bytes(hetex::NativeStream, const std::uint8_t*, std::uint8_t*, std::size_t, std::uint8_t) { std::abort(); }
void lcg_rounds(hetex::NativeStream, const std::uint32_t*, std::uint32_t*, std::size_t, unsigned) { std::abort(); }
}  // namespace hetex_test
