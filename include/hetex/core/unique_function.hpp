// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A move-only type-erased callable (std::move_only_function is C++23; we are on C++20).

#include <memory>
#include <type_traits>
#include <utility>

namespace hetex::detail {

template <class Sig>
class UniqueFunction;

template <class R, class... Args>
class UniqueFunction<R(Args...)> {
  struct Base {
    virtual ~Base() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct Impl final : Base {
    explicit Impl(F&& f) : fn(std::move(f)) {}
    R call(Args... args) override { return fn(std::forward<Args>(args)...); }
    F fn;
  };

 public:
  UniqueFunction() = default;
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, UniqueFunction>) &&
      std::is_invocable_r_v<R, F&, Args...> UniqueFunction(F&& f)
      : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::decay_t<F>(std::forward<F>(f)))) {}

  UniqueFunction(UniqueFunction&&) noexcept = default;
  UniqueFunction& operator=(UniqueFunction&&) noexcept = default;

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }

 private:
  std::unique_ptr<Base> impl_;
};

}  // namespace hetex::detail
