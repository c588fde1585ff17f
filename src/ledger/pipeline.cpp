// SPDX-License-Identifier: MIT
#include "hetex/ledger/pipeline.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <exception>
#include <limits>
#include <new>
#include <mutex>
#include <optional>
#include <thread>

#include "hetex/async/channel.hpp"
#include "hetex/ledger/reader.hpp"
#include "hetex/ledger/stages.hpp"
#include "hetex/ledger/stm/executor.hpp"

namespace hetex::ledger {
namespace {

using Clock = std::chrono::steady_clock;

struct Block {
  RawBlock raw;
  bool check_only = false;  // the committed tip, re-read to check the input (resumption)
  std::vector<VerifiedTransfer> txs;
  std::vector<Hash> ids;
  Hash merkle_root{};
  std::optional<stm::BlockIndex<TransferProgram>> index;  // views `txs`
  std::vector<TxStatus> statuses;
  BlockHeader header;
  Hash hash{};
  std::vector<std::pair<PublicKey, Account>> accounts;
};
using BlockPtr = std::unique_ptr<Block>;
using Queue = Channel<BlockPtr>;

// The first error of the run; stages stop on it.
class Failure {
 public:
  void set(Error e) {
    std::lock_guard lock(m_);
    if (!error_) error_ = std::move(e);
  }
  std::optional<Error> get() const {
    std::lock_guard lock(m_);
    return error_;
  }

 private:
  mutable std::mutex m_;
  std::optional<Error> error_;
};

Status parse_block(const std::string& input, Block& b) {
  const std::size_t n = b.raw.size();
  b.txs.resize(n);
  std::atomic<std::size_t> first_bad{std::numeric_limits<std::size_t>::max()};
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 512), [&](const auto& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      auto t = parse_transfer(b.raw.line(i));
      if (t) {
        b.txs[i].transfer = *t;
        continue;
      }
      auto cur = first_bad.load();
      while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {}
      return;
    }
  });
  if (const auto i = first_bad.load(); i != std::numeric_limits<std::size_t>::max())
    return parse_transfer(b.raw.line(i))
        .error()
        .with_context(input + ": line " + std::to_string(b.raw.first_line + i) + " (block " +
                      std::to_string(b.raw.height) + ", nothing of it committed)");
  return {};
}

// A device field of the scheduler's reports as text, whether it is a name or a DeviceId.
template <class D>
std::string device_text(const D& d) {
  if constexpr (requires { d.to_string(); })
    return d.to_string();
  else
    return std::string(d);
}

// Where the batches of a report ran, added to the summary (under its lock: two stages report).
class DeviceTally {
 public:
  void add(const ExecReport& r) {
    std::lock_guard lock(m_);
    auto& per_op = items_[r.stats.operation];
    for (const auto& d : r.stats.devices) per_op[device_text(d.device)] += d.items;
    fallback_ += r.stats.fallback_items;
  }
  void into(RunSummary& s) {
    std::lock_guard lock(m_);
    s.device_items = items_;
    s.fallback_items = fallback_;
  }

 private:
  std::mutex m_;
  std::map<std::string, std::map<std::string, std::size_t>> items_;
  std::size_t fallback_ = 0;
};

Error input_mismatch(const std::string& input, const Tip& tip, const std::string& why) {
  return Error(Errc::invalid_argument, input + " is not the input this database was built from: " + why +
                                           " (the database's last committed block is " + std::to_string(tip.height) +
                                           "); give the same transactions file, or a new --db");
}

}  // namespace

Result<RunSummary> run_pipeline(Scheduler& sched, const std::filesystem::path& input_path, AccountState& state,
                                const Tip& tip, BlockSink& sink, const PipelineOptions& o) {
  if (o.block_size == 0) return Error(Errc::invalid_argument, "block size must be at least 1");
  if (tip.height > 0 && !tip.header) return Error(Errc::invalid_argument, "resuming needs the tip's header");
  auto reader = HETEX_TRY(BlockReader::open(input_path, o.block_size));
  const std::string input = input_path.string() == "-" ? "standard input" : input_path.string();
  const auto queue = std::max<std::size_t>(o.queue_blocks, 1);
  Queue parsed(queue), verified(queue), hashed(queue), executed(queue);
  Failure failure;
  DeviceTally tally;
  RunSummary summary;
  const auto t_start = Clock::now();
  const TransferProgram program;
  stm::Executor<TransferProgram> executor(
      program, {.threads = o.executor_threads, .path = o.executor_path, .min_parallelism = o.min_parallelism});

  // An exception in a stage (out of memory, say) stops the run as an error would, never the
  // process.
  auto guarded = [](auto&& work) -> Status {
    try {
      return work();
    } catch (const std::bad_alloc&) {
      return Error(Errc::out_of_memory, "out of memory");
    } catch (const std::exception& e) {
      return Error(Errc::internal, e.what());
    }
  };
  auto timed = [&](Stage s, const Block& b, auto&& work) -> Status {
    const auto t0 = Clock::now();
    Status st = guarded(work);
    const auto t1 = Clock::now();
    summary.stage_seconds[static_cast<std::size_t>(s)] += std::chrono::duration<double>(t1 - t0).count();
    if (o.metrics && st) o.metrics->stage_done(s, b.raw.height, b.raw.size(), t0, t1);
    return st;
  };
  // A stage between two queues: on its own error it records it and closes its input, so the
  // stages before it stop at their next send; when the next stage has stopped, it stops too.
  auto stage = [&](Stage s, Queue& input_queue, Queue* out, auto&& work) {
    return std::thread([&, s, out, work, in = &input_queue] {
      while (auto item = in->receive()) {
        if (o.metrics) o.metrics->queue_depth(s, in->size() + 1);
        Block& b = **item;
        if (auto st = timed(s, b, [&] { return work(b); }); !st) {
          failure.set(std::move(st).error());
          in->close();
          break;
        }
        // The re-read tip ends at the execute stage, which checks it.
        if (!out || (b.check_only && s == Stage::execute)) continue;
        if (!out->send(std::move(*item))) {
          in->close();
          break;
        }
      }
      if (out) out->close();
    });
  };

  std::thread parse_thread([&] {
    auto run = [&]() -> Status {
      std::optional<RawBlock> check;
      if (tip.height > 0) {
        const auto skipped = HETEX_TRY(reader.skip(tip.height - 1));
        check = HETEX_TRY(reader.next());
        if (skipped < tip.height - 1 || !check)
          return input_mismatch(input, tip, "it has fewer than " + std::to_string(tip.height) + " blocks");
      }
      for (;;) {
        auto b = std::make_unique<Block>();
        if (check) {
          b->raw = std::move(*check);
          b->check_only = true;
          check.reset();
        } else {
          auto raw = HETEX_TRY(reader.next());
          if (!raw) return {};
          b->raw = std::move(*raw);
        }
        HETEX_TRY_VOID(timed(Stage::parse, *b, [&] { return parse_block(input, *b); }));
        if (!parsed.send(std::move(b))) return {};  // a later stage stopped the run
      }
    };
    if (auto st = guarded(run); !st) failure.set(std::move(st).error());
    parsed.close();
  });

  auto verify_thread = stage(Stage::verify, parsed, &verified, [&](Block& b) -> Status {
    if (b.check_only) return {};
    tally.add(HETEX_TRY(verify_signatures(sched, b.txs)));
    return {};
  });
  auto hash_thread = stage(Stage::hash, verified, &hashed, [&](Block& b) -> Status {
    b.ids.resize(b.raw.size());
    tally.add(HETEX_TRY(transaction_ids(sched, b.raw.lines(), b.ids)));
    b.merkle_root = HETEX_TRY(merkle_root(sched, b.ids));
    if (!b.check_only) b.index.emplace(HETEX_TRY(stm::index_block(program, std::span<const VerifiedTransfer>(b.txs))));
    return {};
  });

  Hash parent = tip.hash;
  auto execute_thread = stage(Stage::execute, hashed, &executed, [&](Block& b) -> Status {
    if (b.check_only) {
      const auto& h = *tip.header;
      if (b.merkle_root != h.merkle_root || b.raw.size() != h.accepted + h.rejected)
        return input_mismatch(input, tip, "its block " + std::to_string(b.raw.height) + " has another Merkle root");
      return {};
    }
    auto r = HETEX_TRY(executor.execute(*b.index, state));
    b.statuses = std::move(r.outputs);
    const auto& keys = b.index->slot_key;
    state.apply(keys, r.final_values, r.found);
    b.accounts.reserve(keys.size());
    for (std::size_t s = 0; s < keys.size(); ++s)
      if (r.final_values[s]) b.accounts.emplace_back(keys[s], *r.final_values[s]);
    b.header.height = b.raw.height;
    b.header.parent = parent;
    b.header.merkle_root = b.merkle_root;
    for (auto st : b.statuses) b.header.accepted += st == TxStatus::applied;
    b.header.rejected = b.statuses.size() - b.header.accepted;
    b.hash = block_hash(b.header);
    parent = b.hash;
    if (o.metrics) o.metrics->executed(r.stats);
    auto& e = summary.execution;
    e.transactions += r.stats.transactions;
    e.executions += r.stats.executions;
    e.validations += r.stats.validations;
    e.aborts += r.stats.aborts;
    e.dependencies += r.stats.dependencies;
    summary.sequential_blocks += !r.stats.parallel();
    b.index.reset();  // the executor's index is large; the commit needs none of it
    return {};
  });

  auto commit_thread = stage(Stage::commit, executed, nullptr, [&](Block& b) -> Status {
    HETEX_TRY_VOID(sink.commit(CommittedBlock{b.header, b.hash, b.ids, b.statuses, b.accounts}));
    std::array<std::size_t, kTxStatusCount> by_status{};
    for (auto st : b.statuses) ++by_status[static_cast<std::size_t>(st)];
    for (int i = 0; i < kTxStatusCount; ++i) summary.by_status[i] += by_status[i];
    if (!summary.blocks) summary.first_height = b.header.height;
    summary.last_height = b.header.height;
    ++summary.blocks;
    summary.transactions += b.statuses.size();
    if (o.metrics) o.metrics->committed(b.header, by_status);
    if (o.on_commit) o.on_commit(CommittedBlock{b.header, b.hash, b.ids, b.statuses, b.accounts});
    return {};
  });

  parse_thread.join();
  verify_thread.join();
  hash_thread.join();
  execute_thread.join();
  commit_thread.join();
  summary.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  tally.into(summary);
  if (auto e = failure.get()) return *e;
  return summary;
}

}  // namespace hetex::ledger
