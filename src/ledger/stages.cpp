// SPDX-License-Identifier: MIT
#include "hetex/ledger/stages.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstring>

namespace hetex::ledger {
namespace {

// Levels narrower than this are hashed on the calling thread: a scheduler round trip costs more.
constexpr std::size_t kSerialLevel = 2048;

Status check(Result<ExecReport>& r, const char* what) {
  if (!r) return r.error().with_context(what);
  if (!r->all_ok()) return r->status().error().with_context(what);
  return {};
}

// SHA-256 of `n` messages of `len` bytes packed in `data`.
Status hash_fixed(Scheduler& sched, const std::vector<std::uint8_t>& data, std::size_t n, std::size_t len,
                  std::span<Hash> out) {
  std::vector<std::uint64_t> offsets(n + 1);
  for (std::size_t i = 0; i <= n; ++i) offsets[i] = i * len;
  const ops::MessageBatch batch{data, offsets};
  if (n < kSerialLevel) return ops::sha256_cpu_serial(batch, out);
  auto r = sched.run(ops::sha256(), batch, out);
  return check(r, "hashing a Merkle tree level");
}

}  // namespace

Result<ExecReport> verify_signatures(Scheduler& sched, std::span<VerifiedTransfer> txs) {
  const std::size_t n = txs.size();
  std::vector<PublicKey> keys(n);
  std::vector<Signature> sigs(n);
  std::vector<std::uint8_t> messages(n * kSigningMessageBytes);
  std::vector<std::uint64_t> offsets(n + 1);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 4096), [&](const auto& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      keys[i] = txs[i].transfer.from;
      sigs[i] = txs[i].transfer.signature;
      const auto m = signing_message(txs[i].transfer);
      std::memcpy(messages.data() + i * kSigningMessageBytes, m.data(), m.size());
      offsets[i + 1] = (i + 1) * kSigningMessageBytes;
    }
  });
  std::vector<ops::Verdict> verdicts(n);
  auto r = sched.run(ops::ed25519_verify(), ops::VerifyBatch{keys, sigs, ops::MessageBatch{messages, offsets}},
                     std::span(verdicts));
  HETEX_TRY_VOID(check(r, "verifying signatures"));
  for (std::size_t i = 0; i < n; ++i) txs[i].signature_valid = verdicts[i] == ops::Verdict::valid;
  return r;
}

Result<ExecReport> transaction_ids(Scheduler& sched, const ops::MessageBatch& lines, std::span<Hash> ids) {
  auto r = sched.run(ops::sha256(), lines, ids);
  HETEX_TRY_VOID(check(r, "hashing transaction ids"));
  return r;
}

Result<Hash> merkle_root(Scheduler& sched, std::span<const Hash> ids) {
  if (ids.empty()) return sha256_of({});
  std::vector<std::uint8_t> data(ids.size() * 33);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    data[33 * i] = 0x00;
    std::memcpy(data.data() + 33 * i + 1, ids[i].data(), 32);
  }
  std::vector<Hash> level(ids.size());
  HETEX_TRY_VOID(hash_fixed(sched, data, ids.size(), 33, level));
  while (level.size() > 1) {
    const std::size_t pairs = level.size() / 2;
    data.assign(pairs * 65, 0x01);
    for (std::size_t i = 0; i < pairs; ++i) {
      std::memcpy(data.data() + 65 * i + 1, level[2 * i].data(), 32);
      std::memcpy(data.data() + 65 * i + 33, level[2 * i + 1].data(), 32);
    }
    std::vector<Hash> up(pairs + level.size() % 2);
    HETEX_TRY_VOID(hash_fixed(sched, data, pairs, 65, std::span(up).first(pairs)));
    if (level.size() % 2) up.back() = level.back();
    level.swap(up);
  }
  return level.front();
}

namespace {
Hash reference_tree(std::span<const Hash> ids) {
  std::uint8_t buf[65];
  if (ids.size() == 1) {
    buf[0] = 0x00;
    std::memcpy(buf + 1, ids[0].data(), 32);
    return sha256_of(std::span(buf, 33));
  }
  std::size_t k = 1;
  while (k * 2 < ids.size()) k *= 2;
  const Hash left = reference_tree(ids.first(k)), right = reference_tree(ids.subspan(k));
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return sha256_of(std::span(buf, 65));
}
}  // namespace

Hash merkle_root_reference(std::span<const Hash> ids) {
  if (ids.empty()) return sha256_of({});
  return reference_tree(ids);
}

}  // namespace hetex::ledger
