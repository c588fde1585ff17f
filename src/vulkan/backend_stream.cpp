// SPDX-License-Identifier: MIT
// The Vulkan backend's queues and pools (src/vulkan/backend.hpp). A hetex stream is an ordered
// run of submissions: each waits for the stream's previous one (and for the gates handed to
// wait_for), so work on one stream runs in order, and the timeline point of its last submission
// is the gate of everything enqueued so far. Copies into device memory go to the device's upload
// queue, copies out of it to the download queue (transfer-only queues where the device has them,
// else the compute queue), launches to the compute queue.
#include <cstring>
#include <deque>

#include "vulkan/backend.hpp"

namespace hetex::vulkan {

Result<TimelinePoint> NativeQueue::submit(Recording& rec) {
  auto point = rec.submit(after);
  if (!point) return point;
  last = *point;
  after.assign(1, *point);
  return point;
}

namespace {

class Stream final : public hetex::detail::StreamImpl {
 public:
  Stream(std::shared_ptr<GpuDevice> gpu, Device* dev) : gpu_(std::move(gpu)), dev_(dev) {}

  Status copy(void* dst, const void* src, std::size_t bytes) override {
    if (bytes == 0) return {};
    HETEX_TRY_VOID(dev_->check_healthy());
    const Resolved s = gpu_->resolve(src), d = gpu_->resolve(dst);
    HETEX_TRY_VOID(check_room(s, bytes, "source"));
    HETEX_TRY_VOID(check_room(d, bytes, "destination"));
    std::lock_guard lock(m_);
    if (!s.buffer && !d.buffer) {  // host to host, after the work before it
      HETEX_TRY_VOID(synchronize_locked());
      std::memmove(dst, src, bytes);
      return {};
    }
    const QueueRole role = d.buffer && d.buffer->use() == MemoryUse::device ? QueueRole::upload : QueueRole::download;
    auto rec = HETEX_TRY(Recording::begin(*dev_, role));
    std::vector<std::shared_ptr<void>> keep{s.buffer, d.buffer};
    const Buffer* from = s.buffer.get();
    std::uint64_t from_offset = s.offset;
    if (!from) {  // pageable source: staged now, so the caller may reuse it at once
      auto staging = HETEX_TRY(staging_buffer(bytes, MemoryUse::upload));
      std::memcpy(staging->host().data(), src, bytes);
      HETEX_TRY_VOID(staging->flush(0, bytes));
      from = staging.get();
      from_offset = 0;
      spare_after_.push_back(std::move(staging));
    } else if (from->use() != MemoryUse::device) {
      HETEX_TRY_VOID(from->flush(s.offset, bytes));
    }
    if (d.buffer) {
      rec.copy(*from, from_offset, *d.buffer, d.offset, bytes);
      if (d.buffer->use() != MemoryUse::device) rec.barrier(Access::transfer, Access::host);
      return submit_locked(rec, std::move(keep));
    }
    // Pageable destination: through a readback buffer, waited for here (the host writes it).
    auto down = HETEX_TRY(staging_buffer(bytes, MemoryUse::readback));
    rec.copy(*from, from_offset, *down, 0, bytes);
    rec.barrier(Access::transfer, Access::host);
    keep.push_back(down);
    HETEX_TRY_VOID(submit_locked(rec, std::move(keep)));
    HETEX_TRY_VOID(synchronize_locked());
    HETEX_TRY_VOID(down->invalidate(0, bytes));
    std::memcpy(dst, down->host().data(), bytes);
    give_back(std::move(down));
    return {};
  }

  Status fill_zero(void* dst, std::size_t bytes) override {
    if (bytes == 0) return {};
    HETEX_TRY_VOID(dev_->check_healthy());
    const Resolved d = gpu_->resolve(dst);
    HETEX_TRY_VOID(check_room(d, bytes, "destination"));
    if (!d.buffer || d.offset % 4 != 0 || bytes % 4 != 0) {
      // Pageable memory, or bytes vkCmdFillBuffer cannot address: a copy of zeros.
      std::vector<std::uint8_t> zeros(bytes, 0);
      return copy(dst, zeros.data(), bytes);
    }
    std::lock_guard lock(m_);
    auto rec = HETEX_TRY(Recording::begin(*dev_, QueueRole::upload));
    rec.fill(*d.buffer, d.offset, bytes, 0);
    if (d.buffer->use() != MemoryUse::device) rec.barrier(Access::transfer, Access::host);
    return submit_locked(rec, {d.buffer});
  }

  Result<hetex::detail::GatePtr> launch_and_record(hetex::detail::UniqueFunction<void(NativeStream)>& launch) override {
    HETEX_TRY_VOID(dev_->check_healthy());
    std::lock_guard lock(m_);
    native_.device = dev_;
    native_.after = order();
    native_.last = {};
    launch(native());
    if (native_.last) {
      last_ = native_.last;
      waits_.clear();
    }
    HETEX_TRY_VOID(dev_->check_healthy());
    return gate_locked();
  }

  Result<hetex::detail::GatePtr> record() override {
    HETEX_TRY_VOID(dev_->check_healthy());
    std::lock_guard lock(m_);
    return gate_locked();
  }

  Status wait_for(const hetex::detail::GatePtr& gate) override {
    if (auto* tg = dynamic_cast<TimelineGate*>(gate.get())) {
      std::lock_guard lock(m_);
      waits_.push_back(tg->point());
      return {};
    }
    if (auto done = gate->poll()) return *done;  // already open: nothing to wait for
    return Error(Errc::invalid_argument, "a Vulkan queue can only wait for gates of the Vulkan backend");
  }

  Status synchronize() override {
    std::lock_guard lock(m_);
    return synchronize_locked();
  }

  NativeStream native() override { return NativeStream(static_cast<void*>(&native_)); }
  int device_index() const override { return gpu_->info().index; }

  // Keeps `what` alive until the work enqueued so far is done (a stream-ordered free).
  void hold(std::shared_ptr<void> what) {
    std::lock_guard lock(m_);
    if (last_) held_.push_back({last_, std::move(what), nullptr});
    reap();
  }

 private:
  struct Held {
    TimelinePoint at;
    std::shared_ptr<void> keep;
    std::shared_ptr<Buffer> staging;  // back to the spares once `at` is reached
  };
  static constexpr std::size_t kSpares = 4;  // idle staging buffers kept per use

  Status check_room(const Resolved& r, std::size_t bytes, const char* what) const {
    if (!r.buffer || bytes <= r.room) return {};
    return Error(Errc::invalid_argument, std::string("vulkan:") + std::to_string(gpu_->info().index) + ": a copy of " +
                                             std::to_string(bytes) + " bytes runs past the end of its " + what +
                                             " allocation (" + std::to_string(r.room) + " bytes left)");
  }

  // A host-visible buffer of at least `bytes`: an idle one of this stream's, else a new one.
  Result<std::shared_ptr<Buffer>> staging_buffer(std::uint64_t bytes, MemoryUse use) {
    auto& spares = spares_[use == MemoryUse::upload ? 0 : 1];
    for (auto it = spares.begin(); it != spares.end(); ++it)
      if ((*it)->size() >= bytes) {
        auto b = std::move(*it);
        spares.erase(it);
        return b;
      }
    auto b = Buffer::create(dev_->shared_from_this(), bytes, use);
    if (!b) return std::move(b).error();
    return std::make_shared<Buffer>(std::move(*b));
  }

  std::vector<TimelinePoint> order() const {
    auto w = waits_;
    if (last_) w.push_back(last_);
    return w;
  }

  void give_back(std::shared_ptr<Buffer> b) {
    auto& spares = spares_[b->use() == MemoryUse::upload ? 0 : 1];
    if (spares.size() == kSpares) spares.erase(spares.begin());  // the oldest goes
    spares.push_back(std::move(b));
  }

  Status submit_locked(Recording& rec, std::vector<std::shared_ptr<void>> keep) {
    const auto waits = order();
    auto staging = std::move(spare_after_);
    spare_after_.clear();
    last_ = HETEX_TRY(rec.submit(waits));
    waits_.clear();
    for (auto& k : keep)
      if (k) held_.push_back({last_, std::move(k), nullptr});
    for (auto& b : staging) held_.push_back({last_, nullptr, std::move(b)});
    reap();
    return {};
  }

  // A gate for everything enqueued so far (an empty submission when that is nothing yet, or
  // when gates to wait for came after the last submission).
  Result<hetex::detail::GatePtr> gate_locked() {
    if (!last_ || !waits_.empty()) {
      auto rec = HETEX_TRY(Recording::begin(*dev_, QueueRole::compute));
      HETEX_TRY_VOID(submit_locked(rec, {}));
    }
    return make_gate(dev_->shared_from_this(), last_);
  }

  Status synchronize_locked() {
    if (!waits_.empty()) {
      auto rec = HETEX_TRY(Recording::begin(*dev_, QueueRole::compute));
      HETEX_TRY_VOID(submit_locked(rec, {}));
    }
    if (last_) HETEX_TRY_VOID(dev_->wait(last_));
    reap();
    return {};
  }

  void reap() {
    while (!held_.empty()) {
      auto done = dev_->poll(held_.front().at);
      if (!done) break;
      if (held_.front().staging && *done) give_back(std::move(held_.front().staging));
      held_.pop_front();
    }
  }

  std::shared_ptr<GpuDevice> gpu_;
  Device* dev_;
  std::mutex m_;
  TimelinePoint last_;
  std::vector<TimelinePoint> waits_;
  std::deque<Held> held_;
  std::vector<std::shared_ptr<Buffer>> spares_[2];    // idle upload / readback staging buffers
  std::vector<std::shared_ptr<Buffer>> spare_after_;  // staging of the submission being recorded
  NativeQueue native_;
};

// Allocations of device memory, each freed in a stream's order: its buffer stays alive until the
// work enqueued on that stream so far is done. Nothing is cached.
class Pool final : public hetex::detail::DeviceMemPool {
 public:
  explicit Pool(std::shared_ptr<GpuDevice> gpu) : gpu_(std::move(gpu)) {}
  Result<void*> allocate(hetex::detail::StreamImpl&, std::size_t bytes) override {
    void* p = HETEX_TRY(gpu_->allocate(MemoryKind::device, bytes));
    std::lock_guard lock(m_);
    sizes_[p] = bytes;
    reserved_ += bytes;
    return p;
  }
  void deallocate(hetex::detail::StreamImpl& stream, void* ptr) noexcept override {
    if (!ptr) return;
    {
      std::lock_guard lock(m_);
      auto it = sizes_.find(ptr);
      if (it == sizes_.end()) return;
      reserved_ -= it->second;
      sizes_.erase(it);
    }
    auto buffer = gpu_->take(ptr);
    if (auto* s = dynamic_cast<Stream*>(&stream))
      s->hold(std::move(buffer));
    else
      (void)stream.synchronize();
  }
  std::size_t reserved_bytes() noexcept override {
    std::lock_guard lock(m_);
    return gpu_->healthy() ? reserved_ : 0;
  }
  Status trim(std::size_t) override { return {}; }

 private:
  std::shared_ptr<GpuDevice> gpu_;
  std::mutex m_;
  std::map<void*, std::size_t> sizes_;
  std::size_t reserved_ = 0;
};

}  // namespace

Result<std::shared_ptr<hetex::detail::StreamImpl>> GpuDevice::create_stream() {
  Device* dev = HETEX_TRY(open());
  HETEX_TRY_VOID(dev->check_healthy());
  return std::shared_ptr<hetex::detail::StreamImpl>(std::make_shared<Stream>(shared_from_this(), dev));
}

Result<std::shared_ptr<hetex::detail::DeviceMemPool>> GpuDevice::create_mem_pool(std::size_t) {
  Device* dev = HETEX_TRY(open());
  HETEX_TRY_VOID(dev->check_healthy());
  return std::shared_ptr<hetex::detail::DeviceMemPool>(std::make_shared<Pool>(shared_from_this()));
}

}  // namespace hetex::vulkan
