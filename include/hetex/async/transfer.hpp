// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Host <-> device transfers whose ownership is explicit.
///
/// Borrowing: upload(stream, span, dst) and download(stream, src, span) return a Completion.
/// Until it completes, the host memory handed in must not be modified or freed. A Completion
/// waits in its destructor, so letting it go out of scope before the memory it borrows is safe
/// by construction; debug builds also detect a source modified while an upload reads it.
///
/// Owning: upload(stream, std::move(vector), dst) and to_device(stream, std::move(vector)) take
/// the vector and free it as soon as the device no longer needs it. download(stream, src)
/// returns a Future of a new vector.
///
/// Pageable memory (an ordinary std::vector) is staged through pinned memory in chunks, with
/// host copies overlapping the DMA; page-locked memory (PinnedBuffer) is copied directly and
/// asynchronously. Downloads into pageable memory finish before download() returns (only the
/// host can copy out of staging memory); download into a PinnedBuffer to overlap them.

#include <span>
#include <string>
#include <vector>

#include "hetex/async/future.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/memory/buffer.hpp"

namespace hetex {

/// A borrowing transfer in flight (see the file's description): waits for it in its destructor, so
/// the host memory it borrows is never freed under it. Move-only.
class [[nodiscard]] Completion {
 public:
  Completion() = default;
  explicit Completion(Future<void> done, detail::UniqueFunction<Status()> verify = {})
      : done_(std::move(done)), verify_(std::move(verify)) {}
  Completion(Completion&& o) noexcept = default;
  Completion& operator=(Completion&& o) noexcept {
    // (void): nvcc warns (#2810-D) on the unused reference an assignment of a [[nodiscard]]
    // type returns.
    if (this != &o) {
      (void)wait();
      (void)(done_ = std::move(o.done_));
      verify_ = std::move(o.verify_);
      (void)(status_ = std::move(o.status_));
    }
    return *this;
  }
  ~Completion() { (void)wait(); }

  bool is_ready() const { return !done_.valid() || done_.is_ready(); }  ///< never blocks
  /// Waits for the transfer; the borrowed host memory is free again once this returns.
  Status wait() {
    if (done_.valid()) {
      (void)(status_ = done_.get());
      if (status_ && verify_) (void)(status_ = verify_());
    }
    return status_;
  }

 private:
  Future<void> done_;
  detail::UniqueFunction<Status()> verify_;
  Status status_;
};

namespace detail {

// Whether the caller keeps the source alive until the returned gate opens (a borrow), or frees
// it as soon as upload_bytes returns (an owned vector).
enum class SourceUse { borrowed, freed_on_return };

// nullptr when the copy already finished.
Result<GatePtr> upload_bytes(Stream& s, void* dst, Allocation* dst_owner, const void* src, std::size_t bytes,
                             SourceUse use);
Result<GatePtr> download_bytes(Stream& s, void* dst, const void* src, Allocation* src_owner, std::size_t bytes);
// A host copy between pageable and page-locked memory, spread over the cores of the calling
// arena (one core cannot keep up with a DMA engine). Copies of 512 KiB and more use streaming
// stores unless `streaming` is false (then the destination stays in cache).
void parallel_copy(void* dst, const void* src, std::size_t bytes, bool streaming = true);
// A check that the borrowed source did not change (debug builds); empty in release builds.
UniqueFunction<Status()> watch_unchanged(const void* src, std::size_t bytes, Stream& s);

inline Future<void> gated(Result<GatePtr> g) {
  if (!g) return make_error_future<void>(std::move(g).error());
  return *g ? make_gated_future(std::move(*g)) : make_ready_future();
}

inline Status check_sizes(const char* what, std::size_t src, std::size_t dst) {
  if (src == dst) return {};
  return Error(Errc::invalid_argument, std::string(what) + ": source has " + std::to_string(src) +
                                           " elements but the destination has " + std::to_string(dst));
}

}  // namespace detail

/// Copies `src` to `dst` on `s`, borrowing `src` until the Completion is done.
/// Errc::invalid_argument when the sizes differ.
template <DeviceCopyable T>
Completion upload(Stream& s, std::span<const T> src, WriteView<T> dst) {
  if (auto st = detail::check_sizes("upload", src.size(), dst.size()); !st)
    return Completion(make_error_future<void>(std::move(st).error()));
  auto verify = detail::watch_unchanged(src.data(), src.size_bytes(), s);
  return Completion(detail::gated(detail::upload_bytes(s, dst.data(), dst.owner(), src.data(), src.size_bytes(),
                                                       detail::SourceUse::borrowed)),
                    std::move(verify));
}

/// Copies `src` to `dst` on `s`, taking `src`, which is freed once the device no longer needs it.
/// Errc::invalid_argument when the sizes differ.
template <DeviceCopyable T>
Future<void> upload(Stream& s, std::vector<T>&& src, WriteView<T> dst) {
  if (auto st = detail::check_sizes("upload", src.size(), dst.size()); !st)
    return make_error_future<void>(std::move(st).error());
  auto g = detail::upload_bytes(s, dst.data(), dst.owner(), src.data(), src.size() * sizeof(T),
                                detail::SourceUse::freed_on_return);
  // The data has been copied out of `src` by now; what remains in flight reads staging memory.
  std::vector<T>().swap(src);
  return detail::gated(std::move(g));
}

/// A new DeviceBuffer holding `src` (taken and freed as upload() does); Errc::out_of_memory when the
/// buffer cannot be allocated.
template <DeviceCopyable T>
Future<DeviceBuffer<T>> to_device(Stream& s, std::vector<T>&& src) {
  auto buf = DeviceBuffer<T>::allocate(s.device(), src.size());
  if (!buf) return make_error_future<DeviceBuffer<T>>(std::move(buf).error());
  auto g = detail::upload_bytes(s, buf->view().data(), buf->allocation().get(), src.data(), src.size() * sizeof(T),
                                detail::SourceUse::freed_on_return);
  std::vector<T>().swap(src);
  if (!g) return make_error_future<DeviceBuffer<T>>(std::move(g).error());
  if (!*g) return make_ready_future(std::move(*buf));
  return make_gated_future(std::move(*g), std::move(*buf));
}

/// Copies `src` into `dst` on `s`, borrowing `dst` until the Completion is done.
/// Errc::invalid_argument when the sizes differ.
template <DeviceCopyable T>
Completion download(Stream& s, ReadView<T> src, std::span<T> dst) {
  if (auto st = detail::check_sizes("download", src.size(), dst.size()); !st)
    return Completion(make_error_future<void>(std::move(st).error()));
  return Completion(detail::gated(detail::download_bytes(s, dst.data(), src.data(), src.owner(), src.size_bytes())));
}

/// `src` copied into a new vector.
template <DeviceCopyable T>
Future<std::vector<T>> download(Stream& s, ReadView<T> src) {
  std::vector<T> out(src.size());
  auto g = detail::download_bytes(s, out.data(), src.data(), src.owner(), src.size_bytes());
  if (!g) return make_error_future<std::vector<T>>(std::move(g).error());
  if (!*g) return make_ready_future(std::move(out));
  return make_gated_future(std::move(*g), std::move(out));
}

}  // namespace hetex
