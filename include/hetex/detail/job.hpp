// SPDX-License-Identifier: MIT
#pragma once
// How the scheduler and the executors hold a submitted batch: type-erased, so their machinery is
// not a template. Internal to hetex; Operation (exec/operation.hpp) is the public face.

#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "hetex/exec/batch.hpp"

namespace hetex {

class GpuLane;
template <BatchView In, class Out>
class Operation;

namespace detail {

struct OpInfo;

// A submitted batch with its operation, type-erased so the scheduler's machinery is not a template.
class JobBase {
 public:
  virtual ~JobBase() = default;
  virtual std::size_t size() const = 0;
  virtual const OpInfo& op() const = 0;
  virtual Status run_cpu(std::size_t begin, std::size_t end) = 0;
  virtual Status run_gpu(GpuLane& lane, std::size_t begin, std::size_t end) = 0;
  // What the cost model files this batch under: the operation's name, plus its cost class if any.
  virtual std::string cost_key() const = 0;
  // The host memory the batch's bulk lives in (HasHostData), or nullptr when unknown.
  virtual const void* host_data() const { return nullptr; }
  // Fault injection: leave garbage where a failed attempt might have written, so a test sees it
  // if the scheduler forgets to redo those items.
  virtual void scribble(std::size_t begin, std::size_t end) = 0;
};

template <class F, class... Args>
Status call_guarded(const std::string& op, F& f, Args&&... args) noexcept {
  try {
    return f(std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    return Error(Errc::internal, "operation " + op + " threw: " + e.what());
  } catch (...) {
    return Error(Errc::internal, "operation " + op + " threw a non-standard exception");
  }
}

template <class In, class Out>
class TypedJob final : public JobBase {
 public:
  TypedJob(const Operation<In, Out>& op, In in, std::span<Out> out) : op_(op), in_(std::move(in)), out_(out) {}
  std::size_t size() const override { return out_.size(); }
  const OpInfo& op() const override { return op_.info(); }
  Status run_cpu(std::size_t b, std::size_t e) override { return op_.run_cpu(in_.slice(b, e), out_.subspan(b, e - b)); }
  Status run_gpu(GpuLane& lane, std::size_t b, std::size_t e) override {
    return op_.run_gpu(lane, in_.slice(b, e), out_.subspan(b, e - b));
  }
  std::string cost_key() const override { return op_.cost_key(in_); }
  const void* host_data() const override {
    if constexpr (HasHostData<In>)
      return in_.host_data();
    else
      return nullptr;
  }
  void scribble(std::size_t b, std::size_t e) override {
    if constexpr (std::is_trivially_copyable_v<Out>) {
      std::memset(static_cast<void*>(out_.data() + b), 0xA5, (e - b) * sizeof(Out));
    } else {
      for (std::size_t i = b; i < e; ++i) out_[i] = Out{};
    }
  }

 private:
  const Operation<In, Out>& op_;
  In in_;
  std::span<Out> out_;
};

}  // namespace detail
}  // namespace hetex
