// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Errors as values. Every fallible hetex call returns `Result<T>`; nothing throws across the API
/// except Result::value() on an error (a programming mistake the caller chose to make).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace hetex {

/// The category of an Error: what went wrong, and so what the caller can do about it.
enum class Errc : std::uint8_t {
  invalid_argument,  ///< the caller handed in something wrong; fix the call
  out_of_memory,     ///< device or host allocation failed; use smaller batches or free memory
  unavailable,       ///< the device/backend is absent, disabled or unhealthy
  busy,              ///< refused now (queue full, buffer in use); retry later or wait
  device_lost,       ///< a fault retired the device, or it vanished; its buffers are gone
  kernel_fault,      ///< device code faulted (trap, illegal address, assert)
  compile_error,     ///< run-time compilation failed; the message carries the log
  io,                ///< file or stream I/O failed
  cancelled,         ///< the work was abandoned (promise dropped, channel closed)
  internal,          ///< a bug in hetex or the driver; please report
};

std::string_view to_string(Errc code) noexcept;  ///< "invalid_argument", "out_of_memory", ...

/// A failure: its category and a message for people (what failed, on which device or file, why).
/// Errors are values, cheap to copy and move; they carry no stack trace and own no resources.
class Error {
 public:
  /// An error of category `code`; `message` says what failed and why.
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const noexcept { return code_; }                      ///< the category, for programs to act on
  const std::string& message() const noexcept { return message_; }  ///< the detail, for people
  /// "out_of_memory: cudaMalloc of 2.0 GiB on cuda:0 failed: ..."
  std::string describe() const;

  /// Prefixes context, keeping the category: err.with_context("uploading batch 3")
  Error with_context(std::string_view context) const;

  friend bool operator==(const Error& a, const Error& b) noexcept {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Errc code_;
  std::string message_;
};

/// Thrown only by Result::value() when the Result holds an error.
class BadResultAccess : public std::runtime_error {
 public:
  explicit BadResultAccess(const Error& e) : std::runtime_error(e.describe()), error_(e) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

template <class T>
class [[nodiscard]] Result;
/// The outcome of a call that returns nothing: success, or an Error (alias Status).
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  /// Throws BadResultAccess when this holds an error.
  void value() const {
    if (failed_) throw BadResultAccess(error_);
  }
  const Error& error() const& noexcept { return error_; }
  Error&& error() && noexcept { return std::move(error_); }

  /// f() -> `Result<U>`, called only on success; an error passes through.
  template <class F>
  auto and_then(F&& f) && {
    using R = std::invoke_result_t<F>;
    if (failed_) return R(std::move(error_));
    return std::forward<F>(f)();
  }

 private:
  Error error_{Errc::internal, {}};
  bool failed_ = false;
};

namespace detail {
template <class T>
struct is_result : std::false_type {};
template <class T>
struct is_result<Result<T>> : std::true_type {};
}  // namespace detail

/// A value of type T or an Error, like std::expected (C++23). [[nodiscard]]: an ignored Result is
/// a compile-time warning, and the build treats warnings as errors.
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use Result<T*> or std::reference_wrapper");

 public:
  using value_type = T;

  template <class U = T>
  requires std::is_constructible_v<T, U&&> &&
      (!std::is_same_v<std::remove_cvref_t<U>, Result>)&&(!std::is_same_v<std::remove_cvref_t<U>, Error>)
          Result(U&& value)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws BadResultAccess when this holds an error (check first, or use HETEX_TRY).
  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }

  /// Unchecked access: the caller has tested has_value().
  T& operator*() & noexcept { return std::get<0>(v_); }
  const T& operator*() const& noexcept { return std::get<0>(v_); }
  T&& operator*() && noexcept { return std::get<0>(std::move(v_)); }
  T* operator->() noexcept { return &std::get<0>(v_); }
  const T* operator->() const noexcept { return &std::get<0>(v_); }

  /// The error; precondition: !has_value().
  const Error& error() const& noexcept { return std::get<1>(v_); }
  Error&& error() && noexcept { return std::get<1>(std::move(v_)); }

  /// The value, or `fallback` converted to T on an error.
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// f(T) -> U becomes `Result<U>`; errors pass through untouched.
  template <class F>
  auto transform(F&& f) && {
    using U = std::invoke_result_t<F, T&&>;
    if (!has_value()) return Result<U>(std::get<1>(std::move(v_)));
    if constexpr (std::is_void_v<U>) {
      std::forward<F>(f)(std::get<0>(std::move(v_)));
      return Result<void>();
    } else {
      return Result<U>(std::forward<F>(f)(std::get<0>(std::move(v_))));
    }
  }
  /// f(T) -> `Result<U>`
  template <class F>
  auto and_then(F&& f) && {
    using R = std::invoke_result_t<F, T&&>;
    static_assert(detail::is_result<R>::value, "and_then needs a function returning Result<U>");
    if (!has_value()) return R(std::get<1>(std::move(v_)));
    return std::forward<F>(f)(std::get<0>(std::move(v_)));
  }

 private:
  void check() const {
    if (!has_value()) throw BadResultAccess(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

using Status = Result<void>;  ///< success, or an Error

/// Error(code, message), for return statements.
inline Error make_error(Errc code, std::string message) { return Error(code, std::move(message)); }

}  // namespace hetex

/// Propagates an error from an expression yielding `Result<T>`; evaluates to the value otherwise.
/// GCC/Clang statement expression: the project builds with both, never with MSVC.
#define HETEX_TRY(expr)                                                  \
  ({                                                                     \
    auto&& hetex_try_result_ = (expr);                                   \
    if (!hetex_try_result_) return std::move(hetex_try_result_).error(); \
    std::move(*hetex_try_result_);                                       \
  })

/// Propagates an error from an expression yielding a Status.
#define HETEX_TRY_VOID(expr)                                             \
  do {                                                                   \
    auto&& hetex_try_result_ = (expr);                                   \
    if (!hetex_try_result_) return std::move(hetex_try_result_).error(); \
  } while (0)
