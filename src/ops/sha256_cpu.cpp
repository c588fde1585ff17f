// SPDX-License-Identifier: MIT
// SHA-256 on the CPU: OpenSSL libcrypto, on the caller's thread or every core through TBB; and
// the batch checks every path shares.
// SHA256_Init/Update/Final are deprecated in OpenSSL 3 but exported, and faster; see digest().
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <new>

#include "ops/sha256_detail.hpp"

namespace hetex::detail::sha256 {
namespace {

// Fetched once for the process: EVP_sha256() and SHA256() fetch implicitly on every call, which
// takes a lock in the provider store and scales negatively across threads.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
// One context per thread, reused for every message (EVP_Digest would allocate one per call).
EVP_MD_CTX* thread_ctx() {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

Error openssl_failure(const char* what) {
  return Error(Errc::internal, std::string("OpenSSL ") + what + " failed for SHA-256");
}

// One message. OpenSSL's low-level SHA256_Init/Update/Final run the same SHA-NI/AVX2 block
// function as its EVP provider without the provider dispatch: 73 vs 121 ns per 64-byte message
// on one EPYC core (EVP with a reused context; EVP_Digest: 155 ns). They fetch nothing and share
// no state, so they scale with cores. Where the deprecated API is compiled out of OpenSSL, EVP
// with the MD fetched once and a per-thread context serves.
bool digest(const std::uint8_t* p, std::size_t n, std::uint8_t* out, [[maybe_unused]] const EVP_MD* md,
            [[maybe_unused]] EVP_MD_CTX* ctx) {
#if !defined(OPENSSL_NO_DEPRECATED_3_0)
  SHA256_CTX c;
  return SHA256_Init(&c) == 1 && SHA256_Update(&c, p, n) == 1 && SHA256_Final(out, &c) == 1;
#else
  return EVP_DigestInit_ex2(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, p, n) == 1 &&
         EVP_DigestFinal_ex(ctx, out, nullptr) == 1;
#endif
}

// Hashes [begin, end) until a malformed message; its index, or kNone. `failed` is set when
// OpenSSL itself fails.
std::size_t hash_range(const ops::MessageBatch& in, std::size_t begin, std::size_t end, ops::Digest* out,
                       const EVP_MD* md, EVP_MD_CTX* ctx, bool& failed) {
  for (std::size_t i = begin; i < end; ++i) {
    if (!message_ok(in, i)) return i;
    const std::uint64_t b = in.offsets[i], e = in.offsets[i + 1];
    if (!digest(in.data.data() + b, e - b, out[i - begin].data(), md, ctx)) {
      failed = true;
      return i;
    }
  }
  return kNone;
}

Status openssl_ready(const EVP_MD*& md, EVP_MD_CTX*& ctx) {
  md = sha256_md();
  if (!md) return Error(Errc::unavailable, "OpenSSL could not fetch SHA256 (no default provider?)");
  ctx = thread_ctx();
  if (!ctx) return Error(Errc::out_of_memory, "EVP_MD_CTX_new failed");
  return {};
}

}  // namespace

Error bad_message(const ops::MessageBatch& in, std::size_t i) {
  const std::uint64_t b = in.offsets[i], e = in.offsets[i + 1];
  if (e < b)
    return Error(Errc::invalid_argument, "message batch offsets decrease at message " + std::to_string(i) + " (" +
                                             std::to_string(b) + " then " + std::to_string(e) + ")");
  return Error(Errc::invalid_argument, "message " + std::to_string(i) + " of the batch ends at byte " +
                                           std::to_string(e) + " but the data has " + std::to_string(in.data.size()) +
                                           " bytes");
}

Status check_shape(const ops::MessageBatch& in, std::size_t outputs) {
  if (in.offsets.size() == 1)
    return Error(Errc::invalid_argument,
                 "message batch has one offset; n messages need n + 1 (none for an empty batch)");
  if (outputs != in.size())
    return Error(Errc::invalid_argument, "SHA-256 output has room for " + std::to_string(outputs) +
                                             " digests but the batch has " + std::to_string(in.size()) + " messages");
  return {};
}

Status hash_serial(const ops::MessageBatch& in, std::size_t begin, std::size_t end, ops::Digest* out) {
  const EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
  HETEX_TRY_VOID(openssl_ready(md, ctx));
  bool failed = false;
  const std::size_t bad = hash_range(in, begin, end, out, md, ctx, failed);
  if (failed) return openssl_failure("digest");
  if (bad != kNone) return bad_message(in, bad);
  return {};
}

Status hash_parallel(const ops::MessageBatch& in, std::size_t begin, std::size_t end, ops::Digest* out) {
  if (begin >= end) return {};
  const EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
  HETEX_TRY_VOID(openssl_ready(md, ctx));
  // Ranges of ~32 KiB of input: far above TBB's per-task cost, fine enough to balance cores.
  const std::uint64_t ob = in.offsets[begin], oe = in.offsets[end];
  const std::uint64_t per_message = (oe >= ob ? oe - ob : 0) / (end - begin) + 64;
  const std::size_t grain = static_cast<std::size_t>(std::clamp<std::uint64_t>((32 << 10) / per_message, 1, 4096));
  std::atomic<std::size_t> first_bad{kNone};
  std::atomic<bool> failed{false};
  try {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(begin, end, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        EVP_MD_CTX* c = thread_ctx();
                        bool f = c == nullptr;
                        const std::size_t bad =
                            f ? r.begin() : hash_range(in, r.begin(), r.end(), out + (r.begin() - begin), md, c, f);
                        if (f) failed.store(true);
                        if (bad == kNone) return;
                        std::size_t cur = first_bad.load();
                        while (bad < cur && !first_bad.compare_exchange_weak(cur, bad)) {}
                      });
  } catch (const std::bad_alloc&) {
    return Error(Errc::out_of_memory, "SHA-256 on the CPU: out of host memory");
  }
  if (failed.load()) return openssl_failure("digest");
  if (first_bad.load() != kNone) return bad_message(in, first_bad.load());
  return {};
}

}  // namespace hetex::detail::sha256

namespace hetex::ops {

Status sha256_cpu_serial(const MessageBatch& in, std::span<Digest> out) {
  HETEX_TRY_VOID(detail::sha256::check_shape(in, out.size()));
  return detail::sha256::hash_serial(in, 0, in.size(), out.data());
}

Status sha256_cpu(const MessageBatch& in, std::span<Digest> out) {
  HETEX_TRY_VOID(detail::sha256::check_shape(in, out.size()));
  return detail::sha256::hash_parallel(in, 0, in.size(), out.data());
}

Status sha256_gpu(std::span<Stream> streams, const MessageBatch& in, std::span<Digest> out) {
  return detail::sha256::gpu_with_options(streams, in, out, {});
}

}  // namespace hetex::ops
