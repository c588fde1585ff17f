// SPDX-License-Identifier: MIT
// Streams, event gates and the completion monitor of the CUDA backend.
#include <algorithm>
#include <chrono>
#include <thread>

#include "cuda/cuda_device.hpp"

namespace hetex::cuda {
namespace {

// Past poll_before_sleeping's phases, a wait naps between polls, each nap a fiftieth of the
// time waited so far (at most 1 ms): a wait of more than a few milliseconds wakes at most about
// 2% late (plus the timer slack of a sleep, ~50 µs) and costs almost no core.
// Events are not blocking-sync (CudaDevice::acquire_event), so no waiter sleeps in the driver.
constexpr auto kMaxNap = std::chrono::microseconds(1000);

class CudaStream final : public detail::StreamImpl {
 public:
  explicit CudaStream(std::shared_ptr<CudaDevice> dev) : dev_(std::move(dev)) {}
  ~CudaStream() override {
    if (stream_ && dev_->healthy()) {
      dev_->make_current();
      cudaStreamDestroy(stream_);
    }
  }

  Status init() {
    if (cudaError_t e = prepare(); e != cudaSuccess) return dev_->fail(e, "cudaStreamCreate");
    return {};
  }

  Status copy(void* dst, const void* src, std::size_t bytes) override {
    if (bytes == 0) return {};
    return call("cudaMemcpyAsync", [&] { return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_); });
  }

  Status fill_zero(void* dst, std::size_t bytes) override {
    if (bytes == 0) return {};
    return call("cudaMemsetAsync", [&] { return cudaMemsetAsync(dst, 0, bytes, stream_); });
  }

  Result<detail::GatePtr> launch_and_record(detail::UniqueFunction<void(NativeStream)>& fn) override {
    if (auto h = dev_->check_healthy(); !h) return std::move(h).error();
    cudaError_t e = prepare();
    if (e == cudaSuccess) {
      cudaGetLastError();  // an earlier caller's non-sticky error is not this launch's
      fn(stream_);
      e = cudaGetLastError();
    }
    if (e != cudaSuccess) return dev_->fail(e, "kernel launch");
    return record_event();
  }

  Result<detail::GatePtr> record() override {
    if (auto h = dev_->check_healthy(); !h) return std::move(h).error();
    if (cudaError_t e = prepare(); e != cudaSuccess) return dev_->fail(e, "cudaEventRecord");
    return record_event();
  }

  Status wait_for(const detail::GatePtr& gate) override {
    auto* eg = dynamic_cast<EventGate*>(gate.get());
    if (!eg) return Error(Errc::invalid_argument, "a CUDA stream can only wait for gates of the CUDA backend");
    if (eg->generation() != eg->device().generation()) return eg->poll().value_or(Status{});  // retired device
    return call("cudaStreamWaitEvent", [&] { return cudaStreamWaitEvent(stream_, eg->event(), 0); });
  }

  Status synchronize() override {
    return call("cudaStreamSynchronize", [&] { return cudaStreamSynchronize(stream_); });
  }

  NativeStream native() override {
    prepare();
    return stream_;
  }
  int device_index() const override { return dev_->index(); }

 private:
  // Records a pooled event on the (current, created) stream.
  Result<detail::GatePtr> record_event() {
    const auto gen = dev_->generation();
    cudaEvent_t ev = dev_->acquire_event(gen);
    cudaError_t e = ev ? cudaEventRecord(ev, stream_) : cudaErrorMemoryAllocation;
    if (e != cudaSuccess) {
      dev_->release_event(ev, gen);
      return dev_->fail(e, "cudaEventRecord");
    }
    return detail::GatePtr(std::make_shared<EventGate>(dev_, ev, gen));
  }

  // Makes the device current and creates the stream on first use.
  cudaError_t prepare() {
    cudaError_t e = dev_->make_current();
    if (e == cudaSuccess && !stream_) e = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking);
    return e;
  }

  template <class F>
  Status call(const char* what, F&& f) {
    if (auto h = dev_->check_healthy(); !h) return h;
    cudaError_t e = prepare();
    if (e == cudaSuccess) e = f();
    if (e != cudaSuccess) return dev_->fail(e, what);
    return {};
  }

  std::shared_ptr<CudaDevice> dev_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

Result<std::shared_ptr<detail::StreamImpl>> CudaDevice::create_stream() {
  if (!healthy()) return Error(Errc::unavailable, name() + " is unhealthy after an unrecoverable fault");
  auto s = std::make_shared<CudaStream>(shared_from_this());
  if (auto st = s->init(); !st) return std::move(st).error();
  return std::shared_ptr<detail::StreamImpl>(std::move(s));
}

// ---- EventGate ---------------------------------------------------------------------------

Status EventGate::lost() const {
  auto s = dev_->check_healthy();
  if (s) return Error(Errc::device_lost, dev_->name() + " was retired after a fault; this work's result is lost");
  return s;
}

std::optional<Status> EventGate::poll() {
  if (gen_ != dev_->generation()) return lost();
  const cudaError_t e = cudaEventQuery(ev_);
  if (e == cudaSuccess) return Status{};
  if (e == cudaErrorNotReady) return std::nullopt;
  return Status(dev_->fail(e, "device work"));
}

Status EventGate::wait() {
  const auto start = std::chrono::steady_clock::now();
  if (auto s = detail::poll_before_sleeping([&] { return poll(); })) return std::move(*s);
  for (;;) {
    const auto waited = std::chrono::steady_clock::now() - start;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(waited / 50, kMaxNap));
    if (auto s = poll()) return std::move(*s);
  }
}

void EventGate::notify(detail::UniqueFunction<void(Status)> done) {
  dev_->monitor().watch(shared_from_this(), std::move(done));
}

// ---- Monitor -----------------------------------------------------------------------------

void Monitor::watch(detail::GatePtr gate, detail::UniqueFunction<void(Status)> done) {
  {
    std::lock_guard lock(m_);
    queue_.push_back({std::move(gate), std::move(done)});
    if (!started_) {
      started_ = true;
      // Detached: devices live for the whole process (see discover_gpus).
      std::thread([this] { run(); }).detach();
    }
  }
  cv_.notify_one();
}

void Monitor::run() {
  std::unique_lock lock(m_);
  for (;;) {
    cv_.wait(lock, [&] { return !queue_.empty(); });
    std::deque<Entry> batch;
    batch.swap(queue_);
    lock.unlock();
    // Deliver everything already finished, in any order; if nothing is, wait for the oldest
    // (work on one stream finishes in order, so the oldest is the one to wait for; a gate of
    // another stream that finishes first is delivered after it).
    std::deque<Entry> pending;
    std::vector<std::pair<Entry, Status>> ready;
    for (auto& e : batch) {
      if (auto s = e.gate->poll()) {
        ready.emplace_back(std::move(e), std::move(*s));
      } else {
        pending.push_back(std::move(e));
      }
    }
    for (auto& [entry, status] : ready) entry.done(std::move(status));
    if (ready.empty()) (void)pending.front().gate->wait();  // the next sweep delivers it
    lock.lock();
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) queue_.push_front(std::move(*it));
  }
}

}  // namespace hetex::cuda
