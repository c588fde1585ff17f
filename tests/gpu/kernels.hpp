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
}  // namespace hetex_test
