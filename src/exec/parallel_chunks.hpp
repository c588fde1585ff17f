// SPDX-License-Identifier: MIT
#pragma once
// Runs f(begin, end) over [b, e) in chunks of `grain` on all cores.
//
// The system TBB is not built with ThreadSanitizer, so under TSan its task hand-offs look like
// races inside parallel_for's own templates. There the chunks run on a few std::threads instead
// (whose synchronisation TSan understands), so the scheduler's own concurrency — and the
// operation being called from several threads at once — is still checked.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define HETEX_EXEC_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HETEX_EXEC_UNDER_TSAN 1
#endif
#endif

namespace hetex::detail {

// arena, when given, bounds the threads used (see the scheduler's split runs).
template <class F>
void parallel_chunks(std::size_t b, std::size_t e, std::size_t grain, F&& f, tbb::task_arena* arena = nullptr) {
  if (b >= e) return;
#if HETEX_EXEC_UNDER_TSAN
  (void)arena;  // plain threads here: TBB's own synchronization is invisible to TSan
  const std::size_t chunks = (e - b + grain - 1) / grain;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t c; (c = next.fetch_add(1)) < chunks;) f(b + c * grain, std::min(e, b + (c + 1) * grain));
  };
  std::vector<std::thread> helpers;
  for (std::size_t i = 1; i < std::min<std::size_t>(chunks, 3); ++i) helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();
#else
  auto loop = [&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(b, e, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
  };
  if (arena)
    arena->execute(loop);
  else
    loop();
#endif
}

// Runs f() on `threads` threads of `arena` at once, each typically a loop that takes work until
// none is left. Under TSan on a few std::threads instead (see above).
template <class F>
void on_threads(int threads, F&& f, tbb::task_arena& arena) {
#if HETEX_EXEC_UNDER_TSAN
  (void)arena;
  std::vector<std::thread> helpers;
  for (int i = 1; i < std::min(threads, 3); ++i) helpers.emplace_back([&] { f(); });
  f();
  for (auto& t : helpers) t.join();
#else
  arena.execute([&] {
    tbb::parallel_for(
        0, threads, [&](int) { f(); }, tbb::simple_partitioner());
  });
#endif
}

// Runs f() on this thread inside `arena` (so parallel work it starts stays within the arena's
// threads), or plainly when there is none. Under TSan always plainly (see above).
template <class F>
void in_arena(tbb::task_arena* arena, F&& f) {
#if HETEX_EXEC_UNDER_TSAN
  (void)arena;
  f();
#else
  if (arena)
    arena->execute(f);
  else
    f();
#endif
}

}  // namespace hetex::detail
