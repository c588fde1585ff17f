// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Views: a typed window on memory that says where it lives and how it may be used. Kernels and
/// executors take views, not raw pointers, so the access mode is checked by the compiler:
/// writing through a ReadView does not compile, and a WriteView tells a transfer or executor
/// that the old contents need not be copied in.

#include <cstddef>
#include <span>
#include <type_traits>

#include "hetex/core/backend.hpp"

namespace hetex {

/// Element types that may live in buffers and cross to a device: copied as bytes.
template <class T>
concept DeviceCopyable = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> && std::is_object_v<T> &&
                         !std::is_const_v<T> && !std::is_volatile_v<T>;

/// How a view's holder may use the memory: checked at compile time (see the file's description).
enum class Access : std::uint8_t { read, write, read_write };

namespace detail {
class Allocation;
}

/// A typed, non-owning window on memory: address, element count, memory kind and device. Cheap to
/// copy; valid while the memory it views lives (a buffer outlives its views, or the work using them).
template <class T, Access A>
class View {
  static_assert(DeviceCopyable<T>, "views hold trivially copyable, non-pointer, non-const element types");

 public:
  using element_type = std::conditional_t<A == Access::read, const T, T>;
  static constexpr Access access = A;

  /// Ordinary host memory (a std::vector, an array).
  View(std::span<element_type> host) noexcept : data_(host.data()), size_(host.size()) {}
  /// Memory of `kind` on `device` (-1: host), held by `owner` (nullptr for plain host memory).
  View(element_type* data, std::size_t size, MemoryKind kind, int device, detail::Allocation* owner) noexcept
      : data_(data), size_(size), kind_(kind), device_(device), owner_(owner) {}

  /// A read-write view narrows to read-only or write-only; nothing widens.
  template <Access B>
  requires(A == Access::read_write && B != Access::read_write) operator View<T, B>() const noexcept {
    return View<T, B>(data_, size_, kind_, device_, owner_);
  }

  /// Address valid where the memory lives: host address for host kinds, device address for
  /// device and mapped memory (mapped views handed out by buffers carry the device address).
  element_type* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t size_bytes() const noexcept { return size_ * sizeof(T); }
  bool empty() const noexcept { return size_ == 0; }
  MemoryKind memory() const noexcept { return kind_; }
  int device_index() const noexcept { return device_; }  ///< -1 for host memory
  /// True for host and pinned memory.
  bool host_accessible() const noexcept { return kind_ == MemoryKind::host || kind_ == MemoryKind::pinned; }

  /// [offset, offset + count) clamped to the view.
  View subview(std::size_t offset, std::size_t count = static_cast<std::size_t>(-1)) const noexcept {
    if (offset > size_) offset = size_;
    if (count > size_ - offset) count = size_ - offset;
    return View(data_ + offset, count, kind_, device_, owner_);
  }

  /// Host-side element access, for host kinds only (the caller checks host_accessible()).
  /// Read-only views hand out const references; write-only views offer no reads at all.
  element_type& operator[](std::size_t i) const noexcept requires(A != Access::write) { return data_[i]; }

  /// The buffer this view came from (nullptr for plain host memory); hetex uses it to track
  /// device work on memory the host can also touch.
  detail::Allocation* owner() const noexcept { return owner_; }

 private:
  element_type* data_ = nullptr;
  std::size_t size_ = 0;
  MemoryKind kind_ = MemoryKind::host;
  int device_ = -1;
  detail::Allocation* owner_ = nullptr;
};

template <class T>
using ReadView = View<T, Access::read>;  ///< read-only view: const elements
template <class T>
using WriteView = View<T, Access::write>;  ///< write-only view: the old contents need not be copied in
template <class T>
using ReadWriteView = View<T, Access::read_write>;  ///< narrows to either of the others

}  // namespace hetex
