// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// stm::Executor: a block of transactions executed on every core with the result of executing
/// them one by one in block order (Block-STM: optimistic execution over multi-version memory,
/// validation, re-execution in block order; docs/design/ledger.md).
///
/// @code
/// stm::Executor<MyProgram> exec(MyProgram{}, {.threads = 16});
/// auto index = stm::index_block(program, txs).value();   // may run ahead, on another thread
/// auto out = exec.execute(index, storage).value();       // storage.find(key) -> const Value*
/// // out.outputs[t]: transaction t's output; out.final_values[s]: slot s's new value, if written
/// @endcode
///
/// Multi-version memory: every key the block declares is a slot; each transaction that declares a
/// write to it owns an entry in the slot's chain, which holds that transaction's last write (with
/// its incarnation), nothing, or an ESTIMATE (its execution was aborted and will probably write
/// here again). A transaction reads, for each declared key, the entry of the highest lower
/// transaction that holds a value, or the storage's value when none does, and remembers the
/// version it saw; reading an ESTIMATE makes it wait for that transaction. Validation reads the
/// same keys again and compares versions.
///
/// Three paths run a block over the same slots and entries: the optimistic one above; a scheduled
/// one, where a transaction starts once the lower transactions that declare writes to its keys
/// have finished, and reads their entries without locks, validation or re-execution; and one
/// thread applying the transactions in order. On every path the slots' storage values are loaded,
/// and the final values gathered, on every core. By default the executor picks the path per block
/// from what each has measurably cost per transaction on recent blocks (stm::PathChoice), so it
/// is never much slower than in-order execution; a block whose declared conflicts leave too
/// little parallelism (critical path longer than size / min_parallelism) runs in order without
/// asking.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/ledger/stm/block_index.hpp"
#include "hetex/ledger/stm/path_choice.hpp"
#include "hetex/ledger/stm/program.hpp"
#include "hetex/ledger/stm/task_scheduler.hpp"
#include "hetex/ledger/stm/worker_pool.hpp"

namespace hetex::ledger::stm {

/// Where values not written in the block come from: find(key) returns the value or nullptr. Called
/// from several threads at once; nothing may modify the storage during execute(). A storage that
/// also has prefetch(key) (start loading what find(key) will read) is asked ahead of each find.
template <class S, class P>
concept Storage = requires(const S& s, const typename P::Key& k) {
  { s.find(k) } -> std::convertible_to<const typename P::Value*>;
};

struct ExecutionStats;

/// How an Executor runs blocks.
struct ExecutorOptions {
  unsigned threads = 0;        ///< 0: every hardware thread
  Path path = Path::measured;  ///< a forced path runs in order with one thread or one transaction
  /// Path::measured: blocks whose critical path allows less than this speed-up run in order.
  double min_parallelism = 2.0;
  /// Path::measured: the fewest choices between two runs of a path measured dearer, to measure
  /// it again (stm::PathChoice).
  unsigned probe_every = 16;
  /// Path::measured: what a block just run cost, in seconds, given its statistics (which path ran)
  /// and the wall time execute() took. Empty: the wall time. Tests inject a cost of their own.
  std::function<double(const ExecutionStats&, double wall_seconds)> cost = {};
};

/// What executing one block took.
struct ExecutionStats {
  Path path = Path::in_order;  ///< the path that ran the block
  bool probe = false;          ///< Path::measured ran the path it measured dearer, to measure it again
  std::size_t transactions = 0;
  std::size_t executions = 0;    ///< incarnations run to completion (>= transactions)
  std::size_t validations = 0;   ///< validations run
  std::size_t aborts = 0;        ///< validations that failed and aborted an incarnation
  std::size_t dependencies = 0;  ///< executions suspended on an ESTIMATE, or (scheduled) waits for a lower writer
  /// Executions beyond one per transaction.
  std::size_t reexecutions() const noexcept { return executions - transactions; }
  /// False: the block ran on one thread, in order.
  bool parallel() const noexcept { return path != Path::in_order; }
};

/// One block's outcome: the outputs, the final value of every key it wrote, and statistics.
template <Program P>
struct ExecutionResult {
  std::vector<typename P::Output> outputs;                     ///< per transaction
  std::vector<std::optional<typename P::Value>> final_values;  ///< per slot: the new value, if written
  /// Per slot, what storage.find() returned (nullptr: no value): lets the storage's owner write
  /// the final values back without looking the keys up again.
  std::vector<const typename P::Value*> found;
  ExecutionStats stats;
};

/// Executes blocks of a Program's transactions on a pool of threads of its own, with the outcome of
/// running them one after another in order (see the file's description). One block at a time.
template <Program P>
class Executor {
 public:
  using Key = typename P::Key;
  using Value = typename P::Value;
  using Output = typename P::Output;
  // Workers write the outputs of neighbouring transactions at once: std::vector<bool> packs them
  // into shared words, which would be a data race.
  static_assert(!std::is_same_v<Output, bool>, "a Program's Output must not be bool (use int or an enum)");

  explicit Executor(P program = {}, ExecutorOptions options = {})
      : program_(std::move(program)),
        options_(options),
        pool_(options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency())),
        meet_(pool_.size()),
        choice_(options.probe_every) {}

  const P& program() const noexcept { return program_; }      ///< the program it runs
  unsigned threads() const noexcept { return pool_.size(); }  ///< its worker threads, the caller included
  /// Path::measured's figures: each path's mean seconds per transaction (negative: not measured).
  const PathChoice& path_choice() const noexcept { return choice_; }

  /// One block at a time per executor.
  template <Storage<P> S>
  Result<ExecutionResult<P>> execute(const BlockIndex<P>& b, const S& storage) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t n = b.size();
    ExecutionResult<P> r;
    r.outputs.resize(n);
    r.final_values.resize(b.slots());
    r.found.resize(b.slots());
    if (base_.size() < b.slots()) base_.resize(b.slots());
    misused_.store(std::numeric_limits<std::uint32_t>::max());
    r.stats.transactions = n;
    const bool can_parallel = pool_.size() > 1 && n > 1;
    Path path = Path::in_order;
    if (options_.path == Path::measured) {
      if (can_parallel && static_cast<double>(n) >= options_.min_parallelism * double(b.critical_path)) {
        const Path cheapest = choice_.cheapest();
        path = choice_.next();
        r.stats.probe = cheapest != Path::measured && path != cheapest;
      }
    } else if (can_parallel) {
      path = options_.path;
    }
    r.stats.path = path;
    auto load = [&](std::size_t lo, std::size_t hi) {
      // A storage that can prefetch is asked for kPrefetchAhead slots ahead: the lookups of one
      // worker then overlap their cache misses instead of taking them one after another.
      constexpr bool kPrefetch = requires { storage.prefetch(b.slot_key[0]); };
      if constexpr (kPrefetch)
        for (std::size_t s = lo; s < std::min(hi, lo + kPrefetchAhead); ++s) storage.prefetch(b.slot_key[s]);
      for (std::size_t s = lo; s < hi; ++s) {
        if constexpr (kPrefetch)
          if (s + kPrefetchAhead < hi) storage.prefetch(b.slot_key[s + kPrefetchAhead]);
        const Value* v = r.found[s] = storage.find(b.slot_key[s]);
        base_[s] = v ? std::optional<Value>(*v) : std::nullopt;
      }
    };
    switch (path) {
      case Path::scheduled: run_scheduled(b, r, load); break;
      case Path::parallel: run_parallel(b, r, load); break;
      default: run_in_order(b, r, load); break;
    }
    if (options_.path == Path::measured) {
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      choice_.record(path, n, options_.cost ? options_.cost(r.stats, wall) : wall);
    }
    if (auto t = misused_.load(); t != std::numeric_limits<std::uint32_t>::max())
      return Error(Errc::invalid_argument, "transaction " + std::to_string(t) +
                                               " of the block read or wrote a key it did not declare (or wrote a "
                                               "key declared read-only)");
    return r;
  }

 private:
  static constexpr std::uint64_t kStorageVersion = ~std::uint64_t{0};
  /// Slots ahead of the one looked up whose storage values are prefetched.
  static constexpr std::size_t kPrefetchAhead = 8;
  /// Fewer slots than this are loaded on the calling thread: waking the workers costs more.
  static constexpr std::size_t kParallelLoadSlots = 1024;
  /// Path::scheduled: transactions a worker claims at once (one shared counter update per run),
  /// and polls of an unfinished writer before each wait yields the core.
  static constexpr std::size_t kRun = 16;
  static constexpr unsigned kSpinsBeforeYield = 64;
  enum : std::uint8_t { kAbsent = 0, kWritten = 1, kEstimate = 2 };

  struct Entry {
    std::atomic<std::uint8_t> state{kAbsent};
    std::atomic_flag lock = ATOMIC_FLAG_INIT;
    std::uint32_t incarnation = 0;
    Value value{};
  };

  /// What one worker needs to run one transaction: its declared keys' values and versions, and
  /// where Access finds each value (at[i] = &values[i]). Sized for the most keys a transaction has
  /// declared so far, never shrunk. Cache-line aligned: workers count their executions at once.
  struct alignas(64) Scratch {
    std::vector<std::optional<Value>> values;
    std::vector<std::optional<Value>*> at;
    std::vector<std::uint8_t> written;
    std::vector<std::uint64_t> versions;
    ExecutionStats stats;
    Scratch() = default;
    Scratch(Scratch&&) noexcept = default;  // a vector's move keeps its elements, so `at` stays valid
    Scratch& operator=(Scratch&&) noexcept = default;
    Scratch(const Scratch&) = delete;  // a copy's `at` would point into the original
    Scratch& operator=(const Scratch&) = delete;
    /// Room for k declared keys, none written yet.
    void fit(std::size_t k) {
      if (values.size() < k) {
        values.resize(k);
        at.resize(k);
        written.resize(k);
        versions.resize(k);
        for (std::size_t i = 0; i < k; ++i) at[i] = &values[i];
      }
      std::fill_n(written.begin(), k, std::uint8_t{0});
    }
  };

  std::pair<std::size_t, std::size_t> share(std::size_t n, unsigned w) const {
    return {n * w / pool_.size(), n * (w + 1) / pool_.size()};
  }

  /// An entry's spin lock, held for a scope (and released if copying a Value throws).
  class EntryLock {
   public:
    explicit EntryLock(Entry& e) : e_(e) {
      while (e_.lock.test_and_set(std::memory_order_acquire))
        while (e_.lock.test(std::memory_order_relaxed)) std::this_thread::yield();
    }
    ~EntryLock() { e_.lock.clear(std::memory_order_release); }
    EntryLock(const EntryLock&) = delete;
    EntryLock& operator=(const EntryLock&) = delete;

   private:
    Entry& e_;
  };

  void misuse(std::uint32_t tx) {
    auto cur = misused_.load();
    while (tx < cur && !misused_.compare_exchange_weak(cur, tx)) {}
  }

  /// Runs the program on transaction tx over s.values (its declared keys' values as read); false,
  /// with the misuse recorded, if it touched a key it had not declared for that.
  bool run_program(const BlockIndex<P>& b, std::uint32_t tx, Scratch& s, ExecutionResult<P>& r) {
    const auto begin = b.decl_begin[tx];
    const std::size_t k = b.decl_begin[tx + 1] - begin;
    Access<Key, Value> a(std::span<const Key>(b.decl_key).subspan(begin, k),
                         std::span<const std::uint8_t>(b.decl_write).subspan(begin, k), std::span(s.at).first(k),
                         std::span(s.written).first(k));
    r.outputs[tx] = program_.execute(b.txs[tx], a);
    ++s.stats.executions;
    if (!a.misused()) return true;
    misuse(tx);
    return false;
  }

  /// Reads declaration d: its value into `out` and the version seen; or the transaction that
  /// holds an ESTIMATE there (returned, < the reader), or kNoBlock.
  static constexpr std::uint32_t kNoBlock = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t read(const BlockIndex<P>& b, std::uint32_t d, std::optional<Value>& out, std::uint64_t& version) {
    const auto slot = b.decl_slot[d];
    const auto first = b.slot_entry_begin[slot];
    for (auto w = b.decl_below[d]; w-- > first;) {
      Entry& e = entries_[w];
      if (e.state.load(std::memory_order_acquire) == kAbsent) continue;
      std::uint8_t st;
      {
        EntryLock held(e);
        st = e.state.load(std::memory_order_relaxed);
        if (st == kWritten) {
          out = e.value;
          version = (std::uint64_t(b.entry_tx[w]) << 32) | e.incarnation;
          return kNoBlock;
        }
      }
      if (st == kEstimate) return b.entry_tx[w];
    }
    out = base_[slot];
    version = kStorageVersion;
    return kNoBlock;
  }

  /// Runs incarnation `inc` of tx; the next task for this worker.
  TaskScheduler::Task execute_task(const BlockIndex<P>& b, std::uint32_t tx, std::uint32_t inc, Scratch& s,
                                   ExecutionResult<P>& r) {
    const auto begin = b.decl_begin[tx], end = b.decl_begin[tx + 1];
    const std::size_t k = end - begin;
    for (;;) {
      s.fit(k);
      std::uint32_t blocking = kNoBlock;
      for (std::size_t i = 0; i < k && blocking == kNoBlock; ++i)
        blocking = read(b, begin + static_cast<std::uint32_t>(i), s.values[i], s.versions[i]);
      if (blocking != kNoBlock) {
        if (tasks_.add_dependency(tx, blocking)) {
          ++s.stats.dependencies;
          return {};
        }
        continue;  // it finished meanwhile: read again
      }
      if (!run_program(b, tx, s, r)) std::fill_n(s.written.begin(), k, std::uint8_t{0});
      bool wrote_new = false;
      for (std::size_t i = 0; i < k; ++i) {
        const auto d = begin + i;
        versions_[d].store(s.versions[i], std::memory_order_relaxed);
        if (!b.decl_write[d]) continue;
        Entry& e = entries_[b.decl_below[d]];
        if (s.written[i]) {
          {
            EntryLock held(e);
            e.value = *s.values[i];
            e.incarnation = inc;
            e.state.store(kWritten, std::memory_order_release);
          }
          wrote_new |= !wrote_[d];
          wrote_[d] = 1;
        } else if (wrote_[d]) {
          EntryLock held(e);
          e.state.store(kAbsent, std::memory_order_release);
          wrote_[d] = 0;
        }
      }
      // A new key that no higher transaction declares cannot change what they read.
      return tasks_.finish_execution(tx, inc, wrote_new && b.writes_read_later[tx]);
    }
  }

  TaskScheduler::Task validate_task(const BlockIndex<P>& b, std::uint32_t tx, std::uint32_t inc, Scratch& s) {
    ++s.stats.validations;
    const auto begin = b.decl_begin[tx], end = b.decl_begin[tx + 1];
    bool valid = true;
    std::optional<Value> value;
    for (auto d = begin; d < end && valid; ++d) {
      std::uint64_t version = 0;
      valid = read(b, d, value, version) == kNoBlock && version == versions_[d].load(std::memory_order_relaxed);
    }
    const bool aborted = !valid && tasks_.try_validation_abort(tx, inc);
    if (aborted) {
      ++s.stats.aborts;
      for (auto d = begin; d < end; ++d) {
        if (!b.decl_write[d] || !wrote_[d]) continue;
        Entry& e = entries_[b.decl_below[d]];
        EntryLock held(e);
        e.state.store(kEstimate, std::memory_order_release);
      }
    }
    return tasks_.finish_validation(tx, aborted);
  }

  /// One wake-up of the workers per block: each loads its share of the slots' storage values and
  /// resets its share of the entries and of the transactions' states (nothing per block on the
  /// calling thread alone), waits for the others, runs tasks until the block is done,
  /// then gathers its share of the final values (every write happened before the block was
  /// declared done, which each worker has seen).
  template <class Load>
  void run_parallel(const BlockIndex<P>& b, ExecutionResult<P>& r, Load& load) {
    const std::size_t n = b.size();
    reserve_entries(b);
    const std::size_t decls = b.decl_key.size();
    if (versions_capacity_ < decls) {
      versions_ = std::make_unique<std::atomic<std::uint64_t>[]>(decls);
      versions_capacity_ = decls;
    }
    if (wrote_.size() < decls) wrote_.resize(decls);
    tasks_.prepare(static_cast<std::uint32_t>(n));
    failed_.store(false, std::memory_order_relaxed);
    scratch_.resize(pool_.size());
    for (auto& s : scratch_) s.stats = {};
    auto& scratch = scratch_;
    pool_.run([&](unsigned w) {
      const auto [slot_lo, slot_hi] = share(b.slots(), w);
      prepare_share(b, w, load);
      const auto [tx_lo, tx_hi] = share(n, w);
      tasks_.reset_transactions(static_cast<std::uint32_t>(tx_lo), static_cast<std::uint32_t>(tx_hi));
      std::fill(wrote_.begin() + b.decl_begin[tx_lo], wrote_.begin() + b.decl_begin[tx_hi], std::uint8_t{0});
      meet_.arrive_and_wait();
      Scratch& s = scratch[w];
      TaskScheduler::Task task;
      try {
        while (!tasks_.done() && !failed_.load(std::memory_order_relaxed)) {
          if (task.kind == TaskScheduler::Kind::execute)
            task = execute_task(b, task.tx, task.incarnation, s, r);
          else if (task.kind == TaskScheduler::Kind::validate)
            task = validate_task(b, task.tx, task.incarnation, s);
          if (task.kind == TaskScheduler::Kind::none) {
            task = tasks_.next_task();
            if (task.kind == TaskScheduler::Kind::none) std::this_thread::yield();
          }
        }
      } catch (...) {
        record_failure();
      }
      // A failed block's workers leave at once (the others may still be in their loop); the
      // failure is rethrown below, so nothing is gathered.
      if (!failed_.load(std::memory_order_relaxed)) gather_final_values(b, r, slot_lo, slot_hi);
    });
    rethrow_failure();
    add_worker_stats(r.stats);
  }

  /// The parallel paths' per-worker counts, summed into the block's.
  void add_worker_stats(ExecutionStats& stats) const {
    for (const auto& s : scratch_) {
      stats.executions += s.stats.executions;
      stats.validations += s.stats.validations;
      stats.aborts += s.stats.aborts;
      stats.dependencies += s.stats.dependencies;
    }
  }

  /// A parallel path's worker caught an exception (the program threw): the block has failed, the
  /// other workers stop, and the first exception is rethrown once all have returned.
  void record_failure() {
    failed_.store(true, std::memory_order_relaxed);
    std::lock_guard lock(thrown_m_);
    if (!thrown_) thrown_ = std::current_exception();
  }
  void rethrow_failure() {
    if (!failed_.load(std::memory_order_relaxed)) return;
    std::exception_ptr e;
    {
      std::lock_guard lock(thrown_m_);
      e = std::exchange(thrown_, nullptr);
    }
    if (e) std::rethrow_exception(e);
  }

  /// Before a parallel path's barrier: worker w loads its share of the slots' storage values and
  /// resets its share of the entries. A storage (or a Value's copy) that throws fails the block
  /// here too, and the worker still reaches the barrier.
  template <class Load>
  void prepare_share(const BlockIndex<P>& b, unsigned w, Load& load) {
    try {
      const auto [lo, hi] = share(b.slots(), w);
      load(lo, hi);
      reset_entries(b, w);
    } catch (...) {
      record_failure();
    }
  }

  void reserve_entries(const BlockIndex<P>& b) {
    if (entries_capacity_ < b.entries()) {
      entries_ = std::make_unique<Entry[]>(b.entries());
      entries_capacity_ = b.entries();
    }
  }
  /// Worker w's share of the entries back to absent (before the block's barrier).
  void reset_entries(const BlockIndex<P>& b, unsigned w) {
    const auto [lo, hi] = share(b.entries(), w);
    for (std::size_t i = lo; i < hi; ++i) {
      entries_[i].state.store(kAbsent, std::memory_order_relaxed);
      entries_[i].lock.clear(std::memory_order_relaxed);
      entries_[i].incarnation = 0;
    }
  }
  /// Each slot's final value: its highest written entry (after every transaction has finished).
  void gather_final_values(const BlockIndex<P>& b, ExecutionResult<P>& r, std::size_t lo, std::size_t hi) {
    for (std::size_t slot = lo; slot < hi; ++slot)
      for (auto e = b.slot_entry_begin[slot + 1]; e-- > b.slot_entry_begin[slot];)
        if (entries_[e].state.load(std::memory_order_relaxed) == kWritten) {
          r.final_values[slot] = entries_[e].value;
          break;
        }
  }

  /// Path::scheduled. Workers claim runs of kRun transactions in block order, and run each once
  /// the nearest lower writer of each of its declared keys has finished: that writer waited for
  /// its own nearest lower writer before it ran, so every lower entry of the key is final, and
  /// the transaction reads the highest written one (or the storage value) without a lock. A
  /// worker only ever waits for a lower transaction, already claimed by a running worker, so the
  /// lowest unfinished transaction always proceeds. A transaction that throws ends the block:
  /// waiting workers give up, and the exception reaches the caller.
  template <class Load>
  void run_scheduled(const BlockIndex<P>& b, ExecutionResult<P>& r, Load& load) {
    const std::size_t n = b.size();
    reserve_entries(b);
    if (done_capacity_ < n) {
      done_ = std::make_unique<std::atomic<std::uint8_t>[]>(n);
      done_capacity_ = n;
    }
    next_tx_.store(0, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    scratch_.resize(pool_.size());
    for (auto& s : scratch_) s.stats = {};
    pool_.run([&](unsigned w) {
      const auto [slot_lo, slot_hi] = share(b.slots(), w);
      prepare_share(b, w, load);
      const auto [tx_lo, tx_hi] = share(n, w);
      for (auto t = tx_lo; t < tx_hi; ++t) done_[t].store(0, std::memory_order_relaxed);
      meet_.arrive_and_wait();
      Scratch& s = scratch_[w];
      try {
        for (bool more = !failed_.load(std::memory_order_relaxed); more;) {
          const std::size_t first = next_tx_.fetch_add(kRun, std::memory_order_relaxed);
          const std::size_t last = std::min(n, first + kRun);
          more = first < n && !failed_.load(std::memory_order_relaxed);
          for (auto tx = first; tx < last && more; ++tx) more = run_after_writers(b, std::uint32_t(tx), s, r);
        }
      } catch (...) {
        record_failure();
      }
      meet_.arrive_and_wait();  // every transaction has finished (or the block failed)
      if (!failed_.load(std::memory_order_relaxed)) gather_final_values(b, r, slot_lo, slot_hi);
    });
    rethrow_failure();
    add_worker_stats(r.stats);
  }

  /// Path::scheduled: one transaction, after its keys' lower writers; false if the block failed
  /// meanwhile.
  bool run_after_writers(const BlockIndex<P>& b, std::uint32_t tx, Scratch& s, ExecutionResult<P>& r) {
    const auto begin = b.decl_begin[tx], end = b.decl_begin[tx + 1];
    const std::size_t k = end - begin;
    s.fit(k);
    for (std::size_t i = 0; i < k; ++i) {
      const auto d = begin + static_cast<std::uint32_t>(i);
      const auto slot = b.decl_slot[d];
      const auto first = b.slot_entry_begin[slot];
      auto e = b.decl_below[d];
      if (e > first && !await_finished(b.entry_tx[e - 1], s)) return false;
      while (e > first && entries_[e - 1].state.load(std::memory_order_relaxed) != kWritten) --e;
      s.values[i] = e > first ? std::optional<Value>(entries_[e - 1].value) : base_[slot];
    }
    if (run_program(b, tx, s, r)) {
      for (std::size_t i = 0; i < k; ++i) {
        const auto d = begin + i;
        if (!b.decl_write[d] || !s.written[i]) continue;
        Entry& e = entries_[b.decl_below[d]];
        e.value = *s.values[i];
        e.state.store(kWritten, std::memory_order_relaxed);
      }
    }
    done_[tx].store(1, std::memory_order_release);
    return true;
  }

  /// Waits until transaction `writer` has finished (true), or the block has failed (false).
  bool await_finished(std::uint32_t writer, Scratch& s) {
    if (done_[writer].load(std::memory_order_acquire)) return true;
    ++s.stats.dependencies;
    for (unsigned spins = 0; !done_[writer].load(std::memory_order_acquire); ++spins) {
      if (failed_.load(std::memory_order_relaxed)) return false;
      if (spins >= kSpinsBeforeYield) std::this_thread::yield();
    }
    return true;
  }

  /// Block order on the calling thread: each transaction reads the slots' current values. The
  /// slots' storage values are loaded on every worker first (hash lookups: most of the work for
  /// cheap transactions; order does not matter there).
  template <class Load>
  void run_in_order(const BlockIndex<P>& b, ExecutionResult<P>& r, Load& load) {
    if (pool_.size() > 1 && b.slots() >= kParallelLoadSlots)
      pool_.run([&](unsigned w) {
        const auto [lo, hi] = share(b.slots(), w);
        load(lo, hi);
      });
    else
      load(0, b.slots());
    // Each transaction works on the slots' current values in place.
    std::vector<std::optional<Value>>& current = base_;
    touched_.assign(b.slots(), 0);
    for (std::size_t tx = 0; tx < b.size(); ++tx) {
      const auto begin = b.decl_begin[tx];
      const std::size_t k = b.decl_begin[tx + 1] - begin;
      if (in_place_.size() < k) {
        in_place_.resize(k);
        in_place_written_.resize(k);
      }
      const std::uint32_t* slot = b.decl_slot.data() + begin;
      for (std::size_t i = 0; i < k; ++i) {
        in_place_[i] = &current[slot[i]];
        in_place_written_[i] = 0;
      }
      Access<Key, Value> a(std::span<const Key>(b.decl_key).subspan(begin, k),
                           std::span<const std::uint8_t>(b.decl_write).subspan(begin, k), std::span(in_place_).first(k),
                           std::span(in_place_written_).first(k));
      r.outputs[tx] = program_.execute(b.txs[tx], a);
      // A misused transaction fails the block: what it wrote does not matter.
      if (a.misused()) misuse(static_cast<std::uint32_t>(tx));
      for (std::size_t i = 0; i < k; ++i) touched_[slot[i]] |= in_place_written_[i];
    }
    r.stats.executions = b.size();
    for (std::size_t slot = 0; slot < b.slots(); ++slot)
      if (touched_[slot]) r.final_values[slot] = current[slot];
  }

  P program_;
  ExecutorOptions options_;
  WorkerPool pool_;
  Barrier meet_;  // the workers of a parallel path, between its phases
  PathChoice choice_;
  std::vector<Scratch> scratch_;  // per worker, kept between blocks
  TaskScheduler tasks_;
  std::vector<std::optional<Value>> base_;
  std::unique_ptr<Entry[]> entries_;
  std::size_t entries_capacity_ = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[]> versions_;
  std::size_t versions_capacity_ = 0;
  std::vector<std::uint8_t> wrote_;
  // Path::in_order: the slots written; the current declaration's values, and whether written.
  std::vector<std::uint8_t> touched_;
  std::vector<std::optional<Value>*> in_place_;
  std::vector<std::uint8_t> in_place_written_;
  std::atomic<std::uint32_t> misused_{0};
  // Path::scheduled: which transactions have finished, and the next one to claim.
  std::unique_ptr<std::atomic<std::uint8_t>[]> done_;
  std::size_t done_capacity_ = 0;
  // Its own cache line: every claim writes it, while every worker keeps reading failed_.
  alignas(64) std::atomic<std::size_t> next_tx_{0};
  // The parallel paths: whether the block failed, and the first exception (record_failure()).
  alignas(64) std::atomic<bool> failed_{false};
  std::mutex thrown_m_;
  std::exception_ptr thrown_;
};

}  // namespace hetex::ledger::stm
