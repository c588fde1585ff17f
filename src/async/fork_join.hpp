// SPDX-License-Identifier: MIT
#pragma once
// TBB's fork and join are invisible to ThreadSanitizer (the system TBB is not instrumented), so
// what the tasks of a parallel region write would look unordered with what the caller does
// after the join. ForkJoin describes both hand-offs; it compiles to nothing without TSan.

#if defined(__SANITIZE_THREAD__)
#define HETEX_FORK_JOIN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HETEX_FORK_JOIN_TSAN 1
#endif
#endif

#if HETEX_FORK_JOIN_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace hetex::detail {

class ForkJoin {
 public:
#if HETEX_FORK_JOIN_TSAN
  ForkJoin() { __tsan_release(&forked_); }
  void enter() { __tsan_acquire(&forked_); }
  void leave() { __tsan_release(&joined_); }
  void join() { __tsan_acquire(&joined_); }

 private:
  char forked_ = 0, joined_ = 0;
#else
  void enter() {}
  void leave() {}
  void join() {}
#endif
};

}  // namespace hetex::detail
