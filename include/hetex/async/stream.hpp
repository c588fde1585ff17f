// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Stream: an in-order queue of work on one GPU (a CUDA stream underneath). Event: a point in a
/// stream that other streams and the host can wait for.
///
/// @code
/// auto s = hetex::Stream::create(gpu).value();
/// auto done = s.enqueue([&](cudaStream_t cs) { my_kernel<<<grid, block, 0, cs>>>(...); });
/// if (auto r = done.get(); !r) ...   // a launch error or a fault in my_kernel lands here
/// @endcode
///
/// NativeStream is cudaStream_t, declared without the CUDA headers, so host-only code can hold
/// streams too. Launch errors are checked after the callable returns; faults inside kernels
/// surface as the error of whatever next waits on that work.

#include <array>
#include <memory>
#include <utility>

#include "hetex/async/future.hpp"
#include "hetex/core/backend.hpp"
#include "hetex/core/device.hpp"
#include "hetex/core/stream_view.hpp"
#include "hetex/memory/buffer.hpp"
#include "hetex/memory/view.hpp"

namespace hetex {

/// A point in a stream's work (Stream::record()); other streams and the host can wait for it.
/// Copyable: copies refer to the same point.
class Event {
 public:
  Event() = default;
  explicit Event(detail::GatePtr gate) : gate_(std::move(gate)) {}
  bool valid() const noexcept { return gate_ != nullptr; }  ///< false for a default-constructed event
  bool is_ready() const;                                    ///< the work before it is done (never blocks)
  /// Blocks until the work before it is done; its error (a fault, Errc::kernel_fault or
  /// Errc::device_lost) if that work failed.
  Status wait() const;
  Future<void> future() const { return make_gated_future(gate_); }  ///< the same wait, as a future
  const detail::GatePtr& gate() const noexcept { return gate_; }

 private:
  detail::GatePtr gate_;
};

/// An in-order queue of work on one GPU (see the file's description). Copies share the one
/// stream; buffers that enqueued work uses must outlive that work.
class Stream {
 public:
  /// A new stream on `gpu`. Errc::unavailable on the CPU; the backend's error (Errc::device_lost
  /// after a fault retired the device, say) when it cannot create one.
  static Result<Stream> create(const Device& gpu);

  const Device& device() const noexcept { return device_; }  ///< the GPU the stream belongs to
  NativeStream native() const { return impl_->native(); }    ///< the backend's own stream (a cudaStream_t on CUDA)
  /// A non-owning handle for the layers below (memory pools order their work through it).
  StreamView view() const noexcept { return StreamView(device_, *impl_); }
  operator StreamView() const noexcept { return view(); }

  /// Runs `launch(native_stream)` to enqueue device work. `uses` names the mapped and managed
  /// buffers (views) the work touches, so that host access to them is refused until it is done
  /// (and the work is refused while the host holds one of them).
  template <class F, class... Views>
  Future<void> enqueue(F&& launch, const Views&... uses) {
    std::array<detail::Allocation*, sizeof...(Views)> owners{uses.owner()...};
    return enqueue_impl(detail::UniqueFunction<void(NativeStream)>(std::forward<F>(launch)), owners);
  }

  /// An event after the work enqueued so far.
  Result<Event> record();
  /// Later work on this stream waits for `event` (from any stream, any GPU).
  Status wait(const Event& event);
  /// Blocks until every piece of work enqueued so far is done; the first error among it, if any.
  Status synchronize();

  /// Stream-ordered copy between any memory kinds hetex can address on this GPU (device,
  /// pinned, mapped, managed). Host pageable memory goes through upload()/download().
  template <class T>
  Future<void> copy(ReadView<T> src, WriteView<T> dst) {
    if (src.size() != dst.size())
      return make_error_future<void>(Error(
          Errc::invalid_argument,
          "copy: source has " + std::to_string(src.size()) + " elements, destination " + std::to_string(dst.size())));
    return copy_bytes(dst.data(), dst.memory(), dst.owner(), src.data(), src.memory(), src.owner(), src.size_bytes());
  }

  /// For hetex's own layers.
  detail::StreamImpl& impl() const noexcept { return *impl_; }
  Future<void> copy_bytes(void* dst, MemoryKind dst_kind, detail::Allocation* dst_owner, const void* src,
                          MemoryKind src_kind, detail::Allocation* src_owner, std::size_t bytes);

 private:
  Stream(Device d, std::shared_ptr<detail::StreamImpl> impl) : device_(std::move(d)), impl_(std::move(impl)) {}
  Future<void> enqueue_impl(detail::UniqueFunction<void(NativeStream)> launch,
                            std::span<detail::Allocation* const> uses);

  Device device_;
  std::shared_ptr<detail::StreamImpl> impl_;
};

}  // namespace hetex
