// SPDX-License-Identifier: MIT
#include "async/fake_gpu.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

namespace hetex_test {

using hetex::Errc;
using hetex::Error;
using hetex::MemoryKind;
using hetex::Result;
using hetex::Status;
namespace detail = hetex::detail;

namespace {

// Delivers gate notifications from a thread of its own: never on the caller's stack, never on
// a stream's worker (whose callbacks could wait for that very stream). The thread owns its
// queue, so the Notifier may die on that thread (a callback dropping the last reference).
class Notifier {
 public:
  Notifier() : inner_(std::make_shared<Inner>()) {
    thread_ = std::thread([inner = inner_] { inner->run(); });
  }
  ~Notifier() {
    {
      std::lock_guard lock(inner_->m);
      inner_->stop = true;
    }
    inner_->cv.notify_one();
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
  void post(std::function<void()> f) {
    {
      std::lock_guard lock(inner_->m);
      inner_->queue.push_back(std::move(f));
    }
    inner_->cv.notify_one();
  }

 private:
  struct Inner {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::function<void()>> queue;
    bool stop = false;
    void run() {
      std::unique_lock lock(m);
      for (;;) {
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        auto f = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        f();
        f = nullptr;  // what it captured goes before the lock is taken again
        lock.lock();
      }
    }
  };
  std::shared_ptr<Inner> inner_;
  std::thread thread_;
};

}  // namespace

struct FakeGpu::State {
  std::atomic<bool> healthy{true};
  std::atomic<std::uint64_t> generation{0};
  std::atomic<std::size_t> copies{0};
  std::atomic<std::size_t> fail_copy{~std::size_t(0)};
  std::atomic<long long> latency_us{0};
  mutable std::mutex mem_m;
  std::map<std::uintptr_t, std::pair<std::size_t, MemoryKind>> memory;  // base -> (bytes, kind)
  Notifier notifier;

  // The kind of fake memory `p` lies in; host for anything else (pageable).
  MemoryKind kind_of(const void* p) const {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    std::lock_guard lock(mem_m);
    auto it = memory.upper_bound(a);
    if (it == memory.begin()) return MemoryKind::host;
    --it;
    return a < it->first + it->second.first ? it->second.second : MemoryKind::host;
  }
  Error lost() const { return Error(Errc::device_lost, "fake GPU was retired after a fault"); }
};

namespace {

using State = FakeGpu::State;

class FakeGate final : public detail::Gate {
 public:
  FakeGate(std::shared_ptr<State> dev, std::uint64_t gen) : dev_(std::move(dev)), gen_(gen) {}

  void complete(Status s) {
    std::vector<hetex::detail::UniqueFunction<void(Status)>> waiting;
    {
      std::lock_guard lock(m_);
      done_ = true;
      status_ = std::move(s);
      waiting.swap(callbacks_);
    }
    cv_.notify_all();
    for (auto& cb : waiting) post(std::move(cb), status_copy());
  }

  std::optional<Status> poll() override {
    if (gen_ != dev_->generation.load()) return Status(dev_->lost());
    std::lock_guard lock(m_);
    if (!done_) return std::nullopt;
    return status_;
  }
  Status wait() override {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return done_ || gen_ != dev_->generation.load(); });
    lock.unlock();
    return *poll();
  }
  void notify(hetex::detail::UniqueFunction<void(Status)> done) override {
    {
      std::lock_guard lock(m_);
      if (!done_ && gen_ == dev_->generation.load()) {
        callbacks_.push_back(std::move(done));
        return;
      }
    }
    post(std::move(done), status_copy());
  }

 private:
  Status status_copy() { return *poll(); }
  void post(hetex::detail::UniqueFunction<void(Status)> cb, Status s) {
    auto shared = std::make_shared<hetex::detail::UniqueFunction<void(Status)>>(std::move(cb));
    dev_->notifier.post([shared, s] { (*shared)(s); });
  }

  std::shared_ptr<State> dev_;
  std::uint64_t gen_;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  Status status_;
  std::vector<hetex::detail::UniqueFunction<void(Status)>> callbacks_;
};

class FakeStream final : public detail::StreamImpl {
 public:
  FakeStream(std::shared_ptr<FakeGpu> gpu) : gpu_(std::move(gpu)), dev_(gpu_->state()), worker_([this] { run(); }) {}
  ~FakeStream() override {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_one();
    worker_.join();
  }

  static FakeStream& from(hetex::NativeStream s) { return *static_cast<FakeStream*>(s.handle()); }

  Status copy(void* dst, const void* src, std::size_t bytes) override {
    HETEX_TRY_VOID(check());
    const std::size_t n = dev_->copies.fetch_add(1);
    if (n == dev_->fail_copy.load())
      return Error(Errc::invalid_argument, "fake copy " + std::to_string(n) + " failed (injected)");
    if (bytes == 0) return {};
    if (dev_->kind_of(src) == MemoryKind::host) {
      // Pageable: read now, as the driver copies it into its own staging before returning.
      auto snapshot = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src),
                                                                   static_cast<const unsigned char*>(src) + bytes);
      enqueue([dst, snapshot] { std::memcpy(dst, snapshot->data(), snapshot->size()); }, true);
    } else {
      enqueue([dst, src, bytes] { std::memcpy(dst, src, bytes); }, true);
    }
    // Into pageable memory: returns once the copy is done.
    if (dev_->kind_of(dst) == MemoryKind::host) return synchronize();
    return {};
  }

  Status fill_zero(void* dst, std::size_t bytes) override {
    HETEX_TRY_VOID(check());
    enqueue([dst, bytes] { std::memset(dst, 0, bytes); }, true);
    return {};
  }

  Result<detail::GatePtr> launch_and_record(detail::UniqueFunction<void(hetex::NativeStream)>& launch) override {
    HETEX_TRY_VOID(check());
    launch_failed_ = false;
    launch(native());
    if (launch_failed_)
      return Error(Errc::invalid_argument, "fake kernel launch failed: invalid configuration (injected)");
    return record();
  }

  Result<detail::GatePtr> record() override {
    HETEX_TRY_VOID(check());
    auto gate = std::make_shared<FakeGate>(dev_, dev_->generation.load());
    enqueue([gate, dev = dev_] { gate->complete(dev->healthy.load() ? Status{} : Status(dev->lost())); }, false);
    return detail::GatePtr(gate);
  }

  Status wait_for(const detail::GatePtr& gate) override {
    HETEX_TRY_VOID(check());
    enqueue([gate] { (void)gate->wait(); }, false);
    return {};
  }

  Status synchronize() override {
    auto g = record();
    if (!g) return std::move(g).error();
    return (*g)->wait();
  }

  hetex::NativeStream native() override { return hetex::NativeStream(static_cast<void*>(this)); }
  int device_index() const override { return gpu_->info().index; }

  // Work in stream order. `device_work` is dropped once the device is retired, and sleeps the
  // injected latency first; bookkeeping (gates, waits) always runs.
  void enqueue(std::function<void()> f, bool device_work) {
    {
      std::lock_guard lock(m_);
      queue_.push_back({std::move(f), device_work});
    }
    cv_.notify_one();
  }
  void fail_launch() { launch_failed_ = true; }
  const std::shared_ptr<State>& state() const { return dev_; }

 private:
  Status check() {
    if (!dev_->healthy.load()) return dev_->lost();
    return {};
  }
  void run() {
    std::unique_lock lock(m_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      if (task.device_work) {
        if (auto us = dev_->latency_us.load()) std::this_thread::sleep_for(std::chrono::microseconds(us));
        if (dev_->healthy.load()) task.f();
      } else {
        task.f();
      }
      lock.lock();
    }
  }

  struct Task {
    std::function<void()> f;
    bool device_work;
  };
  std::shared_ptr<FakeGpu> gpu_;
  std::shared_ptr<State> dev_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stop_ = false;
  bool launch_failed_ = false;
  std::thread worker_;
};

}  // namespace

std::shared_ptr<FakeGpu> FakeGpu::create(int index) {
  std::shared_ptr<FakeGpu> g(new FakeGpu);
  g->info_.index = index;
  g->info_.name = "fake GPU";
  g->info_.multiprocessors = 4;
  g->info_.total_memory = std::size_t(1) << 30;
  g->info_.async_engines = 2;
  g->state_ = std::make_shared<State>();
  return g;
}

FakeGpu::~FakeGpu() {
  std::lock_guard lock(state_->mem_m);
  for (auto& [base, m] : state_->memory) std::free(reinterpret_cast<void*>(base));
}

bool FakeGpu::healthy() const { return state_->healthy.load(); }
std::uint64_t FakeGpu::generation() const { return state_->generation.load(); }
Result<hetex::MemoryInfo> FakeGpu::memory_info() {
  return hetex::MemoryInfo{info_.total_memory / 2, info_.total_memory};
}

Result<void*> FakeGpu::allocate(MemoryKind kind, std::size_t bytes) {
  if (kind != MemoryKind::pinned && kind != MemoryKind::device)
    return Error(Errc::unavailable, "the fake GPU has only pinned and device memory");
  if (kind == MemoryKind::device && !healthy()) return state_->lost();
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!p) return Error(Errc::out_of_memory, "fake allocation of " + std::to_string(bytes) + " bytes failed");
  std::lock_guard lock(state_->mem_m);
  state_->memory[reinterpret_cast<std::uintptr_t>(p)] = {bytes, kind};
  return p;
}

void FakeGpu::deallocate(MemoryKind, void* ptr, std::size_t, std::uint64_t) noexcept {
  if (!ptr) return;
  {
    std::lock_guard lock(state_->mem_m);
    state_->memory.erase(reinterpret_cast<std::uintptr_t>(ptr));
  }
  std::free(ptr);
}

Result<void*> FakeGpu::device_pointer(void*) { return Error(Errc::unavailable, "the fake GPU maps no host memory"); }
bool FakeGpu::is_pinned(const void* ptr) { return state_->kind_of(ptr) == MemoryKind::pinned; }

Result<std::shared_ptr<detail::StreamImpl>> FakeGpu::create_stream() {
  if (!healthy()) return state_->lost();
  return std::shared_ptr<detail::StreamImpl>(std::make_shared<FakeStream>(shared_from_this()));
}

Result<std::shared_ptr<detail::DeviceMemPool>> FakeGpu::create_mem_pool(std::size_t) {
  return Error(Errc::unavailable, "the fake GPU has no stream-ordered allocator");
}

void FakeGpu::fail_copy_at(std::size_t n) { state_->fail_copy.store(state_->copies.load() + n); }
void FakeGpu::lose() {
  state_->healthy.store(false);
  state_->generation.fetch_add(1);
}
void FakeGpu::set_latency(std::chrono::microseconds latency) { state_->latency_us.store(latency.count()); }
std::size_t FakeGpu::copies_called() const { return state_->copies.load(); }
std::size_t FakeGpu::live_allocations() const {
  std::lock_guard lock(state_->mem_m);
  return state_->memory.size();
}

void fake_enqueue(hetex::NativeStream s, std::function<void()> work) {
  FakeStream::from(s).enqueue(std::move(work), true);
}
void fake_fail_launch(hetex::NativeStream s) { FakeStream::from(s).fail_launch(); }
void fake_fault(hetex::NativeStream s) {
  auto& fs = FakeStream::from(s);
  fs.enqueue(
      [dev = fs.state()] {
        dev->healthy.store(false);
        dev->generation.fetch_add(1);
      },
      true);
}

}  // namespace hetex_test
