// SPDX-License-Identifier: MIT
// Linked into the test programs of the tsan build only (tests/CMakeLists.txt).
//
// The system TBB is not built with ThreadSanitizer, so the way its parallel algorithms hand work
// to other threads is invisible to TSan, and every parallel_for would be reported as a race. Under
// TSan they therefore run on the calling thread alone. What TSan checks is hetex's own
// concurrency: the CPU queue's tasks (which still run on a TBB worker, annotated in
// src/async/cpu_queue.cpp), the scheduler's chunk runners (plain threads under TSan,
// src/exec/parallel_chunks.hpp), futures, channels, and the ledger's worker pool and stage threads.
#include <oneapi/tbb/global_control.h>

namespace {
const tbb::global_control serial_tbb{tbb::global_control::max_allowed_parallelism, 1};
}  // namespace
