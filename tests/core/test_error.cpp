// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <memory>

#include "hetex/core/error.hpp"

using namespace hetex;

namespace {
Result<int> parse_positive(int x) {
  if (x <= 0) return Error(Errc::invalid_argument, "want a positive number, got " + std::to_string(x));
  return x;
}
Result<int> doubled(int x) {
  int v = HETEX_TRY(parse_positive(x));
  return v * 2;
}
Status check(int x) {
  HETEX_TRY_VOID(parse_positive(x));
  return {};
}
}  // namespace

TEST(Result, HoldsValueOrError) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::invalid_argument);
  EXPECT_EQ(bad.error().describe(), "invalid_argument: want a positive number, got -1");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, ValueOnErrorThrowsWithTheError) {
  auto bad = parse_positive(0);
  try {
    (void)bad.value();
    FAIL() << "value() on an error must throw";
  } catch (const BadResultAccess& e) {
    EXPECT_EQ(e.error().code(), Errc::invalid_argument);
  }
}

TEST(Result, TryPropagates) {
  EXPECT_EQ(*doubled(4), 8);
  EXPECT_EQ(doubled(-4).error().code(), Errc::invalid_argument);
  EXPECT_TRUE(check(1));
  EXPECT_FALSE(check(-1));
}

TEST(Result, TransformAndThenChain) {
  auto r = parse_positive(5).transform([](int v) { return v + 1; }).and_then([](int v) -> Result<std::string> {
    return std::to_string(v);
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "6");
  auto e = parse_positive(-5).transform([](int v) { return v + 1; });
  EXPECT_FALSE(e);
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(9));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 9);
}

TEST(Error, ContextKeepsCategory) {
  Error e(Errc::out_of_memory, "cudaMalloc failed");
  auto c = e.with_context("uploading batch 3");
  EXPECT_EQ(c.code(), Errc::out_of_memory);
  EXPECT_EQ(c.message(), "uploading batch 3: cudaMalloc failed");
  for (int i = 0; i <= static_cast<int>(Errc::internal); ++i) EXPECT_NE(to_string(static_cast<Errc>(i)), "unknown");
}
