// SPDX-License-Identifier: MIT
#include "hetex/async/stream.hpp"

namespace hetex {

bool Event::is_ready() const { return !gate_ || gate_->poll().has_value(); }

Status Event::wait() const { return gate_ ? gate_->wait() : Status{}; }

Result<Stream> Stream::create(const Device& gpu) {
  if (!gpu.is_gpu())
    return Error(Errc::unavailable,
                 "streams run on GPUs and " + gpu.id().to_string() + " is the CPU; use CpuQueue for CPU work");
  auto impl = gpu.backend()->create_stream();
  if (!impl) return std::move(impl).error();
  return Stream(gpu, std::move(*impl));
}

Result<Event> Stream::record() {
  auto g = impl_->record();
  if (!g) return std::move(g).error();
  return Event(std::move(*g));
}

Status Stream::wait(const Event& event) { return event.valid() ? impl_->wait_for(event.gate()) : Status{}; }

Status Stream::synchronize() { return impl_->synchronize(); }

Future<void> Stream::enqueue_impl(detail::UniqueFunction<void(NativeStream)> launch,
                                  std::span<detail::Allocation* const> uses) {
  detail::DeviceUseGuard reserved;
  for (auto* a : uses)
    if (auto s = reserved.add(a); !s) return make_error_future<void>(std::move(s).error());
  auto gate = impl_->launch_and_record(launch);
  if (!gate) return make_error_future<void>(std::move(gate).error());
  reserved.release(*gate);
  return make_gated_future(std::move(*gate));
}

Future<void> Stream::copy_bytes(void* dst, MemoryKind dst_kind, detail::Allocation* dst_owner, const void* src,
                                MemoryKind src_kind, detail::Allocation* src_owner, std::size_t bytes) {
  if (dst_kind == MemoryKind::host || src_kind == MemoryKind::host)
    return make_error_future<void>(Error(
        Errc::invalid_argument, "Stream::copy moves buffer memory; use upload()/download() for ordinary host memory"));
  detail::DeviceUseGuard reserved;
  for (auto* a : {dst_owner, src_owner})
    if (auto s = reserved.add(a); !s) return make_error_future<void>(std::move(s).error());
  if (auto s = impl_->copy(dst, src, bytes); !s) return make_error_future<void>(std::move(s).error());
  auto gate = impl_->record();
  if (!gate) return make_error_future<void>(std::move(gate).error());
  reserved.release(*gate);
  return make_gated_future(std::move(*gate));
}

}  // namespace hetex
