// SPDX-License-Identifier: MIT
// The wire format's writer and reader, and a chunk's payload with spans spliced in by reference.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "hetex/dist/bytes.hpp"

namespace hetex::dist {
namespace {

std::vector<std::uint64_t> iota_of(std::size_t n) {
  std::vector<std::uint64_t> v(n);
  std::iota(v.begin(), v.end(), 1000);
  return v;
}

// A large borrowed array is not copied: the payload holds a reference, and what the receiver
// gets (the pieces in order) reads back as if it had been copied.
TEST(ChunkPayload, LargeBorrowedArraysAreSplicedAndReadBackInOrder) {
  const auto big = iota_of(20000);  // 160 KB: spliced
  const auto small = iota_of(3);    // copied
  ChunkPayload p;
  ByteWriter w(p);
  w.put<std::uint8_t>(7);  // unaligned before the array: the padding counts the spliced bytes
  w.put_array_borrowed(std::span<const std::uint64_t>(big));
  w.put<std::uint8_t>(9);
  w.put_array_borrowed(std::span<const std::uint64_t>(small));
  w.put_string("end");
  ASSERT_EQ(p.splices().size(), 1u);
  EXPECT_EQ(p.splices()[0].bytes.data(), reinterpret_cast<const std::uint8_t*>(big.data()));
  EXPECT_LT(p.bytes().size(), 200u) << "only the small values were copied";
  EXPECT_EQ(p.size(), p.bytes().size() + big.size() * 8);

  std::size_t pieces = 0, bytes = 0;
  p.for_each_piece([&](std::span<const std::uint8_t> s) {
    EXPECT_FALSE(s.empty());
    ++pieces;
    bytes += s.size();
  });
  EXPECT_EQ(pieces, 3u);
  EXPECT_EQ(bytes, p.size());

  const std::vector<std::uint8_t> flat = std::move(p).flatten();
  ByteReader r(flat);
  EXPECT_EQ(r.get<std::uint8_t>().value(), 7);
  const auto a = r.get_array<std::uint64_t>().value();
  ASSERT_EQ(a.size(), big.size());
  EXPECT_TRUE(std::equal(a.begin(), a.end(), big.begin()));
  EXPECT_EQ(r.get<std::uint8_t>().value(), 9);
  const auto b = r.get_array<std::uint64_t>().value();
  EXPECT_TRUE(std::equal(b.begin(), b.end(), small.begin(), small.end()));
  EXPECT_EQ(r.get_string().value(), "end");
  EXPECT_EQ(r.remaining(), 0u);
}

// Odd-length arrays spliced one after the other (a message batch's bytes, a zip's two halves):
// the padding between them is counted from the spliced bytes, as the reader expects.
TEST(ChunkPayload, AdjacentOddLengthSplicesKeepTheLayout) {
  std::vector<std::uint8_t> x(100'001), y(70'003);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<std::uint8_t>(i * 7);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::uint8_t>(i * 13 + 1);
  ChunkPayload p;
  ByteWriter w(p);
  w.put_array_borrowed(std::span<const std::uint8_t>(x));
  w.put_array_borrowed(std::span<const std::uint8_t>(y));
  w.put<std::uint64_t>(0x1122334455667788ull);
  ASSERT_EQ(p.splices().size(), 2u);
  const std::vector<std::uint8_t> flat = std::move(p).flatten();
  std::vector<std::uint8_t> copied;
  ByteWriter c(copied);
  c.put_array(std::span<const std::uint8_t>(x));
  c.put_array(std::span<const std::uint8_t>(y));
  c.put<std::uint64_t>(0x1122334455667788ull);
  EXPECT_EQ(flat, copied) << "spliced and copied payloads are the same bytes";
  ByteReader r(flat);
  const auto a = r.get_array<std::uint8_t>().value();
  const auto b = r.get_array<std::uint8_t>().value();
  EXPECT_TRUE(std::equal(a.begin(), a.end(), x.begin(), x.end()));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), y.begin(), y.end()));
  EXPECT_EQ(r.get<std::uint64_t>().value(), 0x1122334455667788ull);
}

// Into a plain buffer, a borrowed array is copied like any other.
TEST(ChunkPayload, BorrowedArraysIntoABufferAreCopied) {
  const auto big = iota_of(20000);
  std::vector<std::uint8_t> buf;
  ByteWriter w(buf);
  w.put_array_borrowed(std::span<const std::uint64_t>(big));
  ByteReader r(buf);
  const auto a = r.get_array<std::uint64_t>().value();
  EXPECT_TRUE(std::equal(a.begin(), a.end(), big.begin(), big.end()));
  EXPECT_NE(static_cast<const void*>(a.data()), static_cast<const void*>(big.data()));
}

TEST(ChunkPayload, EmptyAndUnsplicedPayloads) {
  ChunkPayload p;
  EXPECT_TRUE(p.empty());
  std::size_t pieces = 0;
  p.for_each_piece([&](auto) { ++pieces; });
  EXPECT_EQ(pieces, 0u);
  p.bytes() = {1, 2, 3};
  EXPECT_EQ(std::move(p).flatten(), (std::vector<std::uint8_t>{1, 2, 3}));
}

// A short or corrupt message is an error, not a read past its end.
TEST(ByteReader, TruncatedArrayIsAnError) {
  const auto v = iota_of(10);
  std::vector<std::uint8_t> buf;
  ByteWriter(buf).put_array(std::span<const std::uint64_t>(v));
  buf.resize(buf.size() - 8);
  ByteReader r(buf);
  EXPECT_FALSE(r.get_array<std::uint64_t>());
}

}  // namespace
}  // namespace hetex::dist
