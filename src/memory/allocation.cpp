// SPDX-License-Identifier: MIT
#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <typeinfo>

#include "hetex/memory/buffer.hpp"

namespace hetex::detail {

std::string readable_type_name(const char* mangled) {
  int status = 0;
  char* s = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && s ? s : mangled;
  std::free(s);
  return out;
}

std::shared_ptr<GpuDevice> gpu_for_pinned() {
  // Registered as portable, so any healthy GPU will do; with none, plain host memory serves.
  for (const auto& g : discover_gpus().devices)
    if (g->healthy()) return g;
  return nullptr;
}

Result<std::shared_ptr<Allocation>> Allocation::create(MemoryKind kind, std::shared_ptr<GpuDevice> gpu,
                                                       std::size_t bytes, std::string type_name) {
  std::shared_ptr<Allocation> a(new Allocation);
  a->kind_ = kind;
  a->bytes_ = bytes;
  a->type_name_ = std::move(type_name);
  // An empty buffer still belongs to its GPU (device_index() names it), it just owns no memory.
  if (gpu) {
    a->generation_ = gpu->generation();
    a->gpu_ = std::move(gpu);
  }
  if (bytes == 0) return a;
  if (!a->gpu_) {
    // Only pinned memory gets here without a GPU: plain aligned host memory serves.
    const std::size_t rounded = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    a->base_ = std::aligned_alloc(kBufferAlignment, rounded);
    if (!a->base_) return Error(Errc::out_of_memory, "host allocation of " + std::to_string(bytes) + " bytes failed");
    a->host_ = a->base_;
    return a;
  }
  auto p = a->gpu_->allocate(kind, bytes);
  if (!p) return std::move(p).error().with_context(a->label());
  a->base_ = *p;
  switch (kind) {
    case MemoryKind::device: a->device_ = a->base_; break;
    case MemoryKind::managed: a->device_ = a->host_ = a->base_; break;
    case MemoryKind::pinned:
      a->host_ = a->base_;
      a->page_locked_ = true;
      break;
    case MemoryKind::mapped: {
      a->host_ = a->base_;
      a->page_locked_ = true;
      auto d = a->gpu_->device_pointer(a->host_);
      if (!d) return std::move(d).error().with_context(a->label());
      a->device_ = *d;
      break;
    }
    case MemoryKind::host: return Error(Errc::invalid_argument, "host memory is not a buffer kind");
  }
  return a;
}

std::shared_ptr<Allocation> Allocation::adopt(MemoryKind kind, std::shared_ptr<GpuDevice> gpu, std::uint64_t generation,
                                              void* base, std::size_t bytes, bool page_locked, std::string type_name,
                                              UniqueFunction<void()> release) {
  std::shared_ptr<Allocation> a(new Allocation);
  a->kind_ = kind;
  a->bytes_ = bytes;
  a->type_name_ = std::move(type_name);
  a->gpu_ = std::move(gpu);
  a->generation_ = generation;
  a->base_ = base;
  a->page_locked_ = page_locked;
  a->release_ = std::move(release);
  if (kind == MemoryKind::device) {
    a->device_ = base;
  } else {
    a->host_ = base;
  }
  return a;
}

Allocation::~Allocation() {
  // Device work may still read or write guarded memory: let it finish before freeing.
  for (auto& g : in_flight_) (void)g->wait();
  if (release_) {
    release_();
    return;
  }
  if (!base_) return;
  if (gpu_) {
    gpu_->deallocate(kind_, base_, bytes_, generation_);
  } else {
    std::free(base_);
  }
}

int Allocation::device_index() const noexcept { return gpu_ && kind_ != MemoryKind::pinned ? gpu_->info().index : -1; }

bool Allocation::lost() const noexcept {
  // Pinned and mapped memory stay host memory when a fault retires the device.
  return gpu_ && kind_ != MemoryKind::pinned && generation_ != gpu_->generation();
}

std::string Allocation::label() const {
  std::string where = gpu_ && kind_ != MemoryKind::pinned ? " on cuda:" + std::to_string(gpu_->info().index) : "";
  return std::string(to_string(kind_)) + " buffer of " + type_name_ + " (" + std::to_string(bytes_) + " bytes)" + where;
}

Status Allocation::check_usable(std::string_view what) const {
  if (lost())
    return Error(Errc::device_lost,
                 std::string(what) + ": the " + label() +
                     " was lost when a fault retired its device; allocate a new one on a healthy device");
  return {};
}

void Allocation::prune_locked() {
  std::erase_if(in_flight_, [](const GatePtr& g) { return g->poll().has_value(); });
}

Status Allocation::begin_host(bool wait) {
  if (auto s = check_usable("host access"); !s) return s;
  std::unique_lock lock(m_);
  for (;;) {
    prune_locked();
    if (in_flight_.empty() && device_reserved_ == 0) break;
    if (!wait)
      return Error(Errc::busy, label() + " is in use by " + std::to_string(in_flight_.size() + device_reserved_) +
                                   " device operation(s) in flight; wait for their futures, or use host_wait()");
    auto gates = in_flight_;
    lock.unlock();
    for (auto& g : gates) (void)g->wait();
    if (gates.empty()) std::this_thread::yield();  // a submission is between reserve and record
    lock.lock();
  }
  ++host_holders_;
  return {};
}

void Allocation::end_host() noexcept {
  std::lock_guard lock(m_);
  --host_holders_;
}

Status Allocation::begin_device() {
  if (auto s = check_usable("device work"); !s) return s;
  std::lock_guard lock(m_);
  if (host_holders_ > 0)
    return Error(Errc::busy,
                 label() + " is held by host access (a live HostAccess); release it before device work uses it");
  ++device_reserved_;
  return {};
}

void Allocation::end_device(GatePtr gate) noexcept {
  std::lock_guard lock(m_);
  --device_reserved_;
  if (gate) in_flight_.push_back(std::move(gate));
}

Status DeviceUseGuard::add(Allocation* a) {
  if (!a) return {};
  if (auto s = a->check_usable("device work"); !s) return s;
  if (!a->guarded()) return {};
  if (std::find(held_.begin(), held_.end(), a) != held_.end()) return {};
  if (auto s = a->begin_device(); !s) return s;
  held_.push_back(a);
  return {};
}

void DeviceUseGuard::release(const GatePtr& gate) noexcept {
  for (auto* a : held_) a->end_device(gate);
  held_.clear();
}

}  // namespace hetex::detail
