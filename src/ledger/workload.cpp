// SPDX-License-Identifier: MIT
#include "hetex/ledger/workload.hpp"

#include <sodium.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace hetex::ledger {
namespace {

struct Keys {
  std::vector<PublicKey> pub;
  std::vector<std::array<std::uint8_t, 64>> secret;
};

// Key pair i of this seed: from the seed SHA-256("hetex ledger" || domain || seed || i).
Keys make_keys(std::size_t n, std::uint64_t seed, std::uint8_t domain) {
  Keys k;
  k.pub.resize(n);
  k.secret.resize(n);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 256), [&](const auto& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      std::uint8_t in[12 + 1 + 16] = {'h', 'e', 't', 'e', 'x', ' ', 'l', 'e', 'd', 'g', 'e', 'r'};
      in[12] = domain;
      for (int b = 0; b < 8; ++b) {
        in[13 + b] = static_cast<std::uint8_t>(seed >> (8 * b));
        in[21 + b] = static_cast<std::uint8_t>(std::uint64_t(i) >> (8 * b));
      }
      const Hash s = sha256_of(in);
      crypto_sign_seed_keypair(k.pub[i].data(), k.secret[i].data(), s.data());
    }
  });
  return k;
}

// Ranks 0..n-1 with weight 1 / (rank + 1)^s, by inverting the cumulative distribution.
class RankSampler {
 public:
  RankSampler(std::size_t n, double s) : n_(n), uniform_(s == 0) {
    if (uniform_) return;
    cdf_.resize(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cdf_[i] = sum += std::pow(double(i + 1), -s);
    for (auto& c : cdf_) c /= sum;
  }
  std::size_t operator()(std::mt19937_64& rng) const {
    if (uniform_) return std::uniform_int_distribution<std::size_t>(0, n_ - 1)(rng);
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::min<std::size_t>(static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin()),
                                 n_ - 1);
  }

 private:
  std::size_t n_;
  bool uniform_;
  std::vector<double> cdf_;
};

}  // namespace

Result<Workload> generate_workload(const WorkloadOptions& o) {
  if (o.accounts == 0) return Error(Errc::invalid_argument, "a workload needs at least one account");
  if (!(o.invalid >= 0 && o.invalid <= 1)) return Error(Errc::invalid_argument, "the invalid share must be in [0, 1]");
  if (!(o.zipf >= 0) || !std::isfinite(o.zipf)) return Error(Errc::invalid_argument, "the Zipf exponent must be >= 0");
  if (o.accounts > std::numeric_limits<std::uint64_t>::max() / std::max<std::uint64_t>(o.balance, 1))
    return Error(Errc::invalid_argument, "the genesis balances would add up to more than 2^64 - 1");
  if (sodium_init() < 0) return Error(Errc::internal, "libsodium failed to initialise");

  const Keys funded = make_keys(o.accounts, o.seed, 0);
  // Senders that never get an account: they neither appear in the genesis nor receive anything.
  const Keys strangers = make_keys(16, o.seed, 1);

  Workload w;
  std::vector<std::pair<PublicKey, std::uint64_t>> accounts(o.accounts);
  for (std::size_t i = 0; i < o.accounts; ++i) accounts[i] = {funded.pub[i], o.balance};
  w.genesis = make_genesis(std::move(accounts));

  // The plan, in order, tracking balances and nonces so that valid transfers are valid where they
  // stand and invalid ones fail for their intended reason alone.
  std::vector<std::uint64_t> balance(o.accounts, o.balance), nonce(o.accounts, 0);
  struct Signer {
    bool stranger = false;
    std::size_t index = 0;
  };
  std::vector<Signer> signer(o.transactions);
  w.transfers.resize(o.transactions);
  w.intended.resize(o.transactions);
  std::mt19937_64 rng(o.seed);
  const RankSampler pick(o.accounts, o.zipf);
  std::uniform_real_distribution<double> unit(0, 1);
  for (std::size_t t = 0; t < o.transactions; ++t) {
    Transfer& x = w.transfers[t];
    const std::size_t from = pick(rng), to = pick(rng);
    TxStatus kind = TxStatus::applied;
    if (unit(rng) < o.invalid) kind = static_cast<TxStatus>(1 + rng() % 4);
    x.from = funded.pub[from];
    x.to = funded.pub[to];
    x.nonce = nonce[from];
    x.amount = std::uniform_int_distribution<std::uint64_t>(0, std::min(balance[from], o.max_amount))(rng);
    signer[t] = {false, from};
    switch (kind) {
      case TxStatus::applied:
        balance[from] -= x.amount;
        balance[to] += x.amount;
        ++nonce[from];
        break;
      case TxStatus::bad_signature: break;  // signed, then corrupted below
      case TxStatus::unknown_sender: {
        const std::size_t s = rng() % strangers.pub.size();
        x.from = strangers.pub[s];
        x.nonce = 0;
        signer[t] = {true, s};
        break;
      }
      case TxStatus::bad_nonce: x.nonce = nonce[from] + 1 + rng() % 3; break;
      case TxStatus::insufficient_balance: x.amount = balance[from] + 1 + rng() % 1000; break;
    }
    w.intended[t] = kind;
  }
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, o.transactions, 256), [&](const auto& r) {
    for (std::size_t t = r.begin(); t != r.end(); ++t) {
      Transfer& x = w.transfers[t];
      const auto m = signing_message(x);
      const auto& sk = signer[t].stranger ? strangers.secret[signer[t].index] : funded.secret[signer[t].index];
      crypto_sign_detached(x.signature.data(), nullptr, m.data(), m.size(), sk.data());
      if (w.intended[t] == TxStatus::bad_signature) x.signature[t % 32] ^= static_cast<std::uint8_t>(1u << (t % 8));
    }
  });
  return w;
}

}  // namespace hetex::ledger
