// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>

#include "hetex/core/backend.hpp"

namespace raw {
void* device_alloc(std::size_t bytes);
void device_free(void* p);
void* pinned_alloc(std::size_t bytes);
void pinned_free(void* p);
void copy_sync(void* dst, const void* src, std::size_t bytes);        // cudaMemcpyAsync + stream sync
void memcpy_blocking(void* dst, const void* src, std::size_t bytes);  // cudaMemcpy
void empty_launch_sync();                                             // <<<1,1>>> + cudaStreamSynchronize
// <<<1,1>>> + cudaEventRecord + cudaEventQuery until done; the event blocking-sync or not.
void empty_launch_event_poll(bool blocking_sync);
void empty_launch(hetex::NativeStream s);
}  // namespace raw
