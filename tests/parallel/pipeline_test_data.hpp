// SPDX-License-Identifier: MIT
#pragma once
// Random inputs and float tolerances shared by the CPU and GPU pipeline tests.

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace hetex_test {

template <class T>
std::vector<T> random_values(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<T> v(n);
  if constexpr (std::is_integral_v<T>) {
    std::uniform_int_distribution<T> d(-100, 100);
    for (auto& x : v) x = d(rng);
  } else {
    std::uniform_real_distribution<T> d(-100, 100);
    for (auto& x : v) x = d(rng);
  }
  return v;
}

// Tolerance of a float result that sums `terms` values of magnitude up to `scale`, in any order.
template <class T>
double tolerance(std::size_t terms, double scale) {
  if constexpr (std::is_integral_v<T>)
    return 0;
  else
    return 4 * std::numeric_limits<T>::epsilon() * std::sqrt(double(terms) + 1) * (double(terms) + 1) * scale;
}

}  // namespace hetex_test
