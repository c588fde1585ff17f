// SPDX-License-Identifier: MIT
// Raw CUDA comparators for bench/pool.cpp: what a user allocating by hand would write.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace rawpool {
namespace {
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(2);
  }
}
cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t x;
    check(cudaStreamCreateWithFlags(&x, cudaStreamNonBlocking), "cudaStreamCreate");
    return x;
  }();
  return s;
}
// A pool of its own that keeps everything cached: the best a hand-written cudaMallocAsync user
// can do (the device's default pool gives memory back at every synchronize).
cudaMemPool_t cached_pool() {
  static cudaMemPool_t p = [] {
    cudaMemPoolProps props{};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = 0;
    cudaMemPool_t x;
    check(cudaMemPoolCreate(&x, &props), "cudaMemPoolCreate");
    std::uint64_t all = UINT64_MAX;
    check(cudaMemPoolSetAttribute(x, cudaMemPoolAttrReleaseThreshold, &all), "cudaMemPoolSetAttribute");
    return x;
  }();
  return p;
}
}  // namespace

void* device_malloc(std::size_t bytes) {
  void* p;
  check(cudaMalloc(&p, bytes), "cudaMalloc");
  return p;
}
void device_free(void* p) { check(cudaFree(p), "cudaFree"); }

void* malloc_async(std::size_t bytes) {
  void* p;
  check(cudaMallocAsync(&p, bytes, stream()), "cudaMallocAsync");
  return p;
}
void* malloc_async_cached(std::size_t bytes) {
  void* p;
  check(cudaMallocFromPoolAsync(&p, bytes, cached_pool(), stream()), "cudaMallocFromPoolAsync");
  return p;
}
void free_async(void* p) { check(cudaFreeAsync(p, stream()), "cudaFreeAsync"); }
void sync() { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); }

void* host_alloc(std::size_t bytes) {
  void* p;
  check(cudaHostAlloc(&p, bytes, cudaHostAllocPortable), "cudaHostAlloc");
  return p;
}
void free_host(void* p) { check(cudaFreeHost(p), "cudaFreeHost"); }

void* register_alloc(std::size_t bytes) {
  const std::size_t rounded = (bytes + 4095) / 4096 * 4096;
  void* p = std::aligned_alloc(4096, rounded);
  if (!p) std::exit(2);
  check(cudaHostRegister(p, rounded, cudaHostRegisterPortable), "cudaHostRegister");
  return p;
}
void unregister_free(void* p) {
  check(cudaHostUnregister(p), "cudaHostUnregister");
  std::free(p);
}
}  // namespace rawpool
