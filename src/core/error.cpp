// SPDX-License-Identifier: MIT
#include "hetex/core/error.hpp"

namespace hetex {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::out_of_memory: return "out_of_memory";
    case Errc::unavailable: return "unavailable";
    case Errc::busy: return "busy";
    case Errc::device_lost: return "device_lost";
    case Errc::kernel_fault: return "kernel_fault";
    case Errc::compile_error: return "compile_error";
    case Errc::io: return "io";
    case Errc::cancelled: return "cancelled";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string s(to_string(code_));
  if (!message_.empty()) s += ": " + message_;
  return s;
}

Error Error::with_context(std::string_view context) const {
  return Error(code_, std::string(context) + ": " + message_);
}

}  // namespace hetex
