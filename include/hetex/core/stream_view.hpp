// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// StreamView: a plain, non-owning handle to a stream of one GPU (what RMM's cuda_stream_view is
/// to a cudaStream_t). Layers below `async` (memory pools) order their work on a stream through
/// it without knowing Stream, which owns the stream and lives in `async`. A Stream converts to a
/// StreamView implicitly; the view is valid while that Stream lives.

#include "hetex/core/backend.hpp"
#include "hetex/core/device.hpp"

namespace hetex {

/// A non-owning handle to one GPU stream; see the file's description. Copyable; valid while the
/// Stream it came from lives.
class StreamView {
 public:
  StreamView(const Device& device, detail::StreamImpl& impl) noexcept : device_(&device), impl_(&impl) {}

  const Device& device() const noexcept { return *device_; }
  detail::StreamImpl& impl() const noexcept { return *impl_; }
  NativeStream native() const { return impl_->native(); }

 private:
  const Device* device_;
  detail::StreamImpl* impl_;
};

}  // namespace hetex
