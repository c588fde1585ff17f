// SPDX-License-Identifier: MIT
// Raw CUDA comparators for bench/transfer.cpp: what a user writing CUDA by hand would do.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#include "raw_cuda.hpp"

namespace raw {
namespace {
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(2);
  }
}
__global__ void empty() {}
cudaStream_t s() {
  static cudaStream_t st = [] {
    cudaStream_t x;
    check(cudaStreamCreateWithFlags(&x, cudaStreamNonBlocking), "cudaStreamCreate");
    return x;
  }();
  return st;
}
}  // namespace

void* device_alloc(std::size_t bytes) {
  void* p;
  check(cudaMalloc(&p, bytes), "cudaMalloc");
  return p;
}
void device_free(void* p) { check(cudaFree(p), "cudaFree"); }
void* pinned_alloc(std::size_t bytes) {
  void* p;
  check(cudaMallocHost(&p, bytes), "cudaMallocHost");
  return p;
}
void pinned_free(void* p) { check(cudaFreeHost(p), "cudaFreeHost"); }
void copy_sync(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s()), "cudaMemcpyAsync");
  check(cudaStreamSynchronize(s()), "cudaStreamSynchronize");
}
void memcpy_blocking(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault), "cudaMemcpy");
}
cudaEvent_t make_event(unsigned flags) {
  cudaEvent_t e;
  check(cudaEventCreateWithFlags(&e, flags), "cudaEventCreate");
  return e;
}
void empty_launch_sync() {
  empty<<<1, 1, 0, s()>>>();
  check(cudaGetLastError(), "launch");
  check(cudaStreamSynchronize(s()), "cudaStreamSynchronize");
}
void empty_launch_event_poll(bool blocking_sync) {
  static cudaEvent_t plain = make_event(cudaEventDisableTiming);
  static cudaEvent_t blocking = make_event(cudaEventDisableTiming | cudaEventBlockingSync);
  cudaEvent_t ev = blocking_sync ? blocking : plain;
  empty<<<1, 1, 0, s()>>>();
  check(cudaGetLastError(), "launch");
  check(cudaEventRecord(ev, s()), "cudaEventRecord");
  cudaError_t e;
  while ((e = cudaEventQuery(ev)) == cudaErrorNotReady) {}
  check(e, "cudaEventQuery");
}
void empty_launch(hetex::NativeStream st) { empty<<<1, 1, 0, st>>>(); }
}  // namespace raw
