// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// One scheduler batch across every rank of a job.
///
/// @code
/// auto comm = hetex::dist::Comm::init(&argc, &argv).value();
/// auto sched = hetex::Scheduler::create(hetex::Runtime::create().value()).value();
/// std::vector<Verdict> out(comm.is_root() ? batch.size() : 0);
/// auto r = hetex::dist::run(comm, *sched, hetex::ops::ed25519_verify(),
///                           comm.is_root() ? batch : VerifyBatch{}, std::span(out));
/// @endcode
///
/// Every rank calls run() with its own scheduler; rank 0 passes the input and the output span
/// (the other ranks' are ignored). A job of one rank without a journal is one scheduler batch. Rank 0 cuts the input
/// into chunks of items, sends each to the rank that asks next (the input of a chunk only, never the whole batch), and
/// writes the results into `out` in input order. Items that failed on every device of their rank come back as errors,
/// as from Scheduler::run. An input type travels between ranks through its Codec: there are codecs for SpanBatch,
/// ZipBatch, ops::MessageBatch and ops::VerifyBatch; a `Codec<In>` specialisation adds another.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <type_traits>
#include <vector>

#include "hetex/dist/bytes.hpp"
#include "hetex/dist/job.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/ops/ed25519.hpp"
#include "hetex/ops/messages.hpp"

namespace hetex::dist {

/// encode(in, out): append a batch (already sliced to a chunk). Its arrays may be written with
/// put_array_borrowed, since the input of dist::run outlives the job; never an array the codec
/// makes itself (that one must be copied: put_array). decode(reader): a view of it into the
/// reader's buffer, which outlives the view for as long as the chunk runs.
template <class In>
struct Codec;

/// A span of items: the count, then the items.
template <class T>
struct Codec<SpanBatch<T>> {
  static void encode(const SpanBatch<T>& in, ByteWriter& w) { w.put_array_borrowed(in.items); }
  static Result<SpanBatch<T>> decode(ByteReader& r) { return SpanBatch<T>{HETEX_TRY(r.get_array<T>())}; }
};

/// Both spans, one after the other.
template <class T>
struct Codec<ZipBatch<T>> {
  static void encode(const ZipBatch<T>& in, ByteWriter& w) {
    w.put_array_borrowed(in.x);
    w.put_array_borrowed(in.y);
  }
  static Result<ZipBatch<T>> decode(ByteReader& r) {
    auto x = HETEX_TRY(r.get_array<T>());
    auto y = HETEX_TRY(r.get_array<T>());
    if (x.size() != y.size()) return Error(Errc::internal, "ZipBatch message with unequal halves");
    return ZipBatch<T>{x, y};
  }
};

/// The bytes of the chunk's messages only, with offsets from 0.
template <>
struct Codec<ops::MessageBatch> {
  static void encode(const ops::MessageBatch& in, ByteWriter& w) {
    const std::uint64_t base = in.offsets.empty() ? 0 : in.offsets.front();
    std::vector<std::uint64_t> offsets(in.offsets.begin(), in.offsets.end());
    for (auto& o : offsets) o -= base;
    w.put_array(std::span<const std::uint64_t>(offsets));
    w.put_array_borrowed(in.data.subspan(base, in.total_bytes()));
  }
  static Result<ops::MessageBatch> decode(ByteReader& r) {
    auto offsets = HETEX_TRY(r.get_array<std::uint64_t>());
    auto data = HETEX_TRY(r.get_array<std::uint8_t>());
    ops::MessageBatch b{data, offsets};
    HETEX_TRY_VOID(b.validate());
    return b;
  }
};

/// Keys, signatures, then the messages as `Codec<MessageBatch>` writes them.
template <>
struct Codec<ops::VerifyBatch> {
  static void encode(const ops::VerifyBatch& in, ByteWriter& w) {
    w.put_array_borrowed(in.keys);
    w.put_array_borrowed(in.signatures);
    Codec<ops::MessageBatch>::encode(in.messages, w);
  }
  static Result<ops::VerifyBatch> decode(ByteReader& r) {
    ops::VerifyBatch b;
    b.keys = HETEX_TRY(r.get_array<ops::PublicKey>());
    b.signatures = HETEX_TRY(r.get_array<ops::Signature>());
    b.messages = HETEX_TRY(Codec<ops::MessageBatch>::decode(r));
    HETEX_TRY_VOID(b.validate());
    return b;
  }
};

/// Where a batch's input is. root: rank 0 holds it, and a chunk carries its items to the rank that
/// runs it. every_rank: every rank passes the same input (each read or mapped it, e.g. from a
/// shared file system), and a chunk carries only its range.
enum class InputAt : std::uint8_t { root, every_rank };

/// What dist::run reports: the job, and on rank 0 the items without a result.
struct BatchReport {
  JobReport job;                                           ///< chunks and ranks
  std::vector<RangeError> errors;                          ///< rank 0: items without a result, by input index
  bool all_ok() const noexcept { return errors.empty(); }  ///< every item has a result (meaningful on rank 0)
};

namespace detail {

// A chunk's result: whether its results were written into the output in place (rank 0's own
// chunks: copying them into a message and out again would cost rank 0 two passes over every
// result it computes), the results otherwise, then the item errors.
inline void encode_errors(const ExecReport& r, ByteWriter& w) {
  w.put<std::uint64_t>(r.errors.size());
  for (const auto& e : r.errors) {
    w.put<std::uint64_t>(e.begin);
    w.put<std::uint64_t>(e.end);
    w.put(static_cast<std::uint8_t>(e.error.code()));
    w.put_string(e.error.message());
  }
}

// An item without a result reads as zeros, whichever rank ran it (an operation that failed
// midway may have written some of its items).
template <class Out>
void clear_errors(const ExecReport& r, std::span<Out> out) {
  for (const auto& e : r.errors)
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(e.begin), out.begin() + static_cast<std::ptrdiff_t>(e.end),
              Out{});
}

template <BatchView In, class Out>
class BatchJob final : public ChunkSource, public ChunkWorker {
 public:
  // `in_place` (rank 0 only): its own chunks write into `out` directly; not with a journal, which
  // records every chunk's results from its message.
  BatchJob(Scheduler& sched, const Operation<In, Out>& op, In input, std::span<Out> out, InputAt at, bool in_place)
      : sched_(sched), op_(op), input_(std::move(input)), out_(out), at_(at), in_place_(in_place) {}

  // ChunkSource (rank 0)
  std::uint64_t position() const override { return pos_; }
  double total_cost() const override { return static_cast<double>(out_.size()); }
  Result<std::optional<Range>> next(double cost, std::uint64_t limit, bool for_root, ChunkPayload& payload,
                                    double& actual) override {
    const std::uint64_t n = out_.size();
    if (pos_ >= n) return std::optional<Range>{};
    const std::uint64_t items = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(cost));
    const std::uint64_t end = std::min({n, limit, pos_ + items});
    if (end <= pos_) return Error(Errc::internal, "BatchJob: a journal chunk starts where this run's chunk would");
    Range r{pos_, end};
    if (!for_root && at_ == InputAt::root) {  // the input is where the chunk runs otherwise
      ByteWriter w(payload);                  // the items travel from the caller's input, not copied
      Codec<In>::encode(input_.slice(r.begin, r.end), w);
    }
    actual = static_cast<double>(end - pos_);
    pos_ = end;
    return std::optional<Range>(r);
  }
  Status skip(std::uint64_t to) override {
    pos_ = to;
    return {};
  }
  Status deliver(Range r, std::span<const std::uint8_t> result) override {
    ByteReader in(result);
    const bool in_place = HETEX_TRY(in.get<std::uint64_t>()) != 0;
    std::span<const Out> values;
    if (!in_place) values = HETEX_TRY(in.get_array<Out>());
    const auto errors = HETEX_TRY(in.get<std::uint64_t>());
    for (std::uint64_t i = 0; i < errors; ++i) {
      const auto b = HETEX_TRY(in.get<std::uint64_t>()), e = HETEX_TRY(in.get<std::uint64_t>());
      const auto code = HETEX_TRY(in.get<std::uint8_t>());
      const auto msg = HETEX_TRY(in.get_string());
      errors_.push_back({r.begin + b, r.begin + e, Error(static_cast<Errc>(code), std::string(msg))});
    }
    if (r.begin > r.end || r.end > out_.size()) return Error(Errc::internal, "a chunk's range is past the output");
    if (in_place) {
      std::lock_guard lock(written_mutex_);
      if (written_.erase(r.begin) == 0)
        return Error(Errc::internal, "a chunk's result is neither in its message nor in the output");
      return {};
    }
    if (values.size() != r.end - r.begin) return Error(Errc::internal, "a chunk's result does not match its range");
    std::memcpy(static_cast<void*>(out_.data() + r.begin), values.data(), values.size_bytes());
    return {};
  }

  // ChunkWorker (every rank)
  Result<std::vector<std::uint8_t>> run(Range r, std::span<const std::uint8_t> payload) override {
    In in;
    if (payload.empty()) {  // rank 0's own chunk, or every rank holds the input
      if (r.end > input_.size()) return Error(Errc::invalid_argument, "a chunk past the end of this rank's input");
      in = input_.slice(r.begin, r.end);
    } else {
      ByteReader reader(payload);
      in = HETEX_TRY(Codec<In>::decode(reader));
    }
    const std::size_t n = in.size();
    if (n != r.end - r.begin) return Error(Errc::internal, "a chunk's input does not match its range");
    std::vector<std::uint8_t> bytes;
    ByteWriter w(bytes);
    if (in_place_) {
      if (r.end > out_.size()) return Error(Errc::internal, "a chunk past the end of the output");
      auto report = HETEX_TRY(sched_.run(op_, in, out_.subspan(r.begin, n)));
      clear_errors(report, out_.subspan(r.begin, n));
      {
        std::lock_guard lock(written_mutex_);
        written_.insert(r.begin);
      }
      w.put<std::uint64_t>(1);
      encode_errors(report, w);
      return bytes;
    }
    // The results go straight into the message, laid out as put_array lays out an array.
    static_assert(alignof(Out) <= 8, "results are 8-byte aligned in a message");
    constexpr std::size_t kHead = 16;
    bytes.resize(kHead + (n * sizeof(Out) + 7) / 8 * 8);
    const std::uint64_t head[2] = {0, n};
    std::memcpy(bytes.data(), head, sizeof head);
    const std::span<Out> results(reinterpret_cast<Out*>(bytes.data() + kHead), n);
    auto report = HETEX_TRY(sched_.run(op_, in, results));
    clear_errors(report, results);
    encode_errors(report, w);
    return bytes;
  }

  std::vector<RangeError> take_errors() { return std::move(errors_); }

 private:
  Scheduler& sched_;
  const Operation<In, Out>& op_;
  In input_;
  std::span<Out> out_;
  InputAt at_;
  bool in_place_;
  std::mutex written_mutex_;
  std::set<std::uint64_t> written_;  // begins of chunks whose results rank 0 wrote in place
  std::uint64_t pos_ = 0;
  std::vector<RangeError> errors_;
};

// One rank and no journal: nothing to share out or to record, so the batch runs as one
// scheduler batch, as without MPI (chunks would only add the first small ones of a job).
template <BatchView In, class Out>
Result<BatchReport> run_alone(const Comm& comm, Scheduler& sched, const Operation<In, Out>& op, const In& input,
                              std::span<Out> out) {
  const auto t0 = std::chrono::steady_clock::now();
  auto exec = HETEX_TRY(sched.run(op, input, out));
  clear_errors(exec, out);
  BatchReport r;
  r.job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto n = static_cast<double>(out.size());
  r.job.chunks = out.empty() ? 0 : 1;
  r.job.units = out.size();
  r.job.ranks.push_back({0, comm.host(0), r.job.chunks, n, r.job.seconds > 0 ? n / r.job.seconds : 0});
  r.errors = std::move(exec.errors);
  return r;
}

}  // namespace detail

/// options.fingerprint, when a journal is used, should name the input (the journal also records
/// the operation and the item count); probe_cost 0 starts each rank at the operation's CPU grain.
template <BatchView In, class Out>
Result<BatchReport> run(const Comm& comm, Scheduler& sched, const Operation<In, Out>& op, In input, std::span<Out> out,
                        JobOptions options = {}, InputAt at = InputAt::root) {
  static_assert(std::is_trivially_copyable_v<Out>, "results travel between ranks as bytes");
  if (comm.is_root() && input.size() != out.size())
    return CpuExecutor::size_mismatch(op.name(), input.size(), out.size());
  if (!comm.is_root()) out = {};
  if (comm.size() == 1 && options.journal.empty()) return detail::run_alone(comm, sched, op, input, out);
  if (options.probe_cost <= 0) options.probe_cost = static_cast<double>(op.info().options.cpu_grain);
  // "r2": the layout of a chunk's result in the journal (in-place flag, results, errors).
  options.fingerprint = op.name() + "|" + std::to_string(out.size()) + "|r2|" + options.fingerprint;
  detail::BatchJob<In, Out> job(sched, op, std::move(input), out, at, comm.is_root() && options.journal.empty());
  BatchReport r;
  r.job = HETEX_TRY(run_job(comm, comm.is_root() ? &job : nullptr, job, options));
  r.errors = job.take_errors();
  return r;
}

}  // namespace hetex::dist
