// SPDX-License-Identifier: MIT
#pragma once
// What the SHA-256 tests (CPU, host-compiled core, GPU) check against, and the batches they hash.

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "hetex/ops/sha256.hpp"

namespace hetex_test {

// OpenSSL's digest of m.
inline hetex::ops::Digest reference(std::span<const std::uint8_t> m) {
  hetex::ops::Digest d{};
  unsigned len = 0;
  EXPECT_EQ(EVP_Digest(m.data(), m.size(), d.data(), &len, EVP_sha256(), nullptr), 1);
  return d;
}

inline std::string hex(const hetex::ops::Digest& d) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (auto b : d) s += {k[b >> 4], k[b & 15]};
  return s;
}

inline std::vector<std::uint8_t> random_pool(std::size_t bytes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> pool(bytes);
  for (std::size_t i = 0; i + 8 <= bytes; i += 8) {
    const std::uint64_t x = rng();
    std::memcpy(pool.data() + i, &x, 8);
  }
  return pool;
}

// Messages of random lengths in [0, max_len], cut from a pool of random bytes.
inline hetex::ops::PackedMessages random_batch(std::size_t n, std::size_t max_len, std::uint64_t seed) {
  const auto pool = random_pool(std::size_t(4) << 20, seed);
  std::mt19937_64 rng(seed + 1);
  hetex::ops::PackedMessages pm;
  pm.reserve(n, n * (max_len / 2 + 1));
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t len = rng() % (max_len + 1);
    pm.add(std::span<const std::uint8_t>(pool.data() + rng() % (pool.size() - len), len));
  }
  return pm;
}

// n messages of exactly len random bytes.
inline hetex::ops::PackedMessages uniform_batch(std::size_t n, std::size_t len, std::uint64_t seed) {
  const auto bytes = random_pool(n * len + 8, seed);
  hetex::ops::PackedMessages pm;
  pm.reserve(n, n * len);
  for (std::size_t i = 0; i < n; ++i) pm.add(std::span<const std::uint8_t>(bytes.data() + i * len, len));
  return pm;
}

}  // namespace hetex_test
