// SPDX-License-Identifier: MIT
#pragma once
// The GPU half of hetex::pipeline (see pipeline.hpp). Included automatically by pipeline.hpp when
// nvcc compiles the file; including it directly works too. Each terminal is one CUB algorithm over
// a fused transform iterator, so maps and filters cost no extra pass and no intermediate array:
//   reductions   cub::DeviceReduce::Reduce   (filtered-out elements become the identity, or
//                                             (value, present) pairs where there is none)
//   collect      cub::DeviceSelect::If       (single pass, decoupled look-back), or
//                cub::DeviceTransform when no filter drops anything
//   scans        cub::DeviceScan             (after a compaction when there is a filter)
//   for_each     cub::DeviceFor::ForEachN

#include <cuda_runtime.h>

#include <cub/device/device_for.cuh>
#include <cub/device/device_reduce.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_select.cuh>
#include <cub/device/device_transform.cuh>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/iterator/transform_output_iterator.h>

#include <climits>
#include <cstdint>
#include <optional>
#include <string>

#include "hetex/async/stream.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/memory/pool.hpp"
#include "hetex/parallel/pipeline.hpp"

namespace hetex {
namespace detail {

inline Error cuda_error(cudaError_t e, const char* what) {
  return Error(e == cudaErrorMemoryAllocation ? Errc::out_of_memory : Errc::internal,
               std::string("pipeline: ") + what + " failed: " + cudaGetErrorString(e));
}

// Calls CUB's two-phase algorithms: `call(temp, bytes, stream)` first sizes, then runs.
template <class Call>
Status cub_call(Stream& s, DevicePool& pool, Call&& call, const char* what) {
  std::size_t bytes = 0;
  if (cudaError_t e = call(nullptr, bytes, s.native()); e != cudaSuccess) return cuda_error(e, what);
  auto temp = pool.allocate<std::byte>(s, bytes ? bytes : 1);
  if (!temp) return std::move(temp).error().with_context(what);
  cudaError_t err = cudaSuccess;
  auto launched = s.enqueue([&](NativeStream cs) { err = call(temp->view().data(), bytes, cs); });
  if (err != cudaSuccess) return cuda_error(err, what);
  if (launched.is_ready()) return launched.get();  // a launch error is ready at once
  return {};
}

// A pipeline's source as device code reads it.
template <class S>
struct GpuSourceOf {
  using type = S;
};
template <class T>
struct GpuSourceOf<HostSource<T>> {
  using type = DeviceSource<T>;
};

template <class T>
const T* gpu_begin(const DeviceSource<T>& s) {
  return s.data;
}
template <class I>
thrust::counting_iterator<I> gpu_begin(const CountingSource<I>& s) {
  return thrust::counting_iterator<I>(s.first);
}

// CUB's offsets are 32-bit when the count allows: faster kernels.
template <class F>
cudaError_t with_count(std::size_t n, F&& f) {
  if (n <= static_cast<std::size_t>(INT_MAX)) return f(static_cast<int>(n));
  return f(static_cast<std::int64_t>(n));
}

template <class T, class Op>
struct Combine {  // a user's binary op as CUB calls it
  Op op;
#pragma nv_exec_check_disable
  __host__ __device__ T operator()(const T& a, const T& b) const { return static_cast<T>(op(a, b)); }
};

template <class Chain>
struct ChainValue {  // the element, for chains no filter can drop from
  Chain chain;
  template <class X>
  __host__ __device__ auto operator()(const X& x) const {
    return chain(x).value;
  }
};
template <class T>
struct IsPresent {
  __host__ __device__ bool operator()(const Maybe<T>& m) const { return m.ok; }
};
template <class T>
struct TakeValue {
  __host__ __device__ T operator()(const Maybe<T>& m) const { return m.value; }
};
template <class P>
struct Predicate {
  P p;
#pragma nv_exec_check_disable
  template <class X>
  __host__ __device__ bool operator()(const X& x) const {
    return static_cast<bool>(p(x));
  }
};
template <class Src, class Chain, class F>
struct ForEachIndex {
  Src src;
  Chain chain;
  F f;
#pragma nv_exec_check_disable
  __host__ __device__ void operator()(std::size_t i) const {
    auto m = chain(src.at(i));
    if (m.ok) f(m.value);
  }
};

// A chain of maps ending in one filter (the shape of a hand-written DeviceSelect::If).
template <class C, class X>
inline constexpr bool filter_after_maps_v = false;
template <class Prev, class P, class X>
inline constexpr bool filter_after_maps_v<FilterStage<Prev, P>, X> =
    is_always_v<decltype(std::declval<const Prev&>()(std::declval<const X&>()))>;

}  // namespace detail

inline namespace HETEX_PIPELINE_ABI {

template <class Src, class Chain>
struct PipelineGpuRun {
  using P = Pipeline<Src, Chain>;
  using T = typename P::value_type;
  using GSrc = typename hetex::detail::GpuSourceOf<Src>::type;
  using Seq = typename P::sequence_type;

  const P& p;
  Device device;

  // What every terminal needs: a stream on the device, its pool, and the source in device memory.
  struct Context {
    Stream* stream = nullptr;
    std::shared_ptr<DevicePool> pool;
    GSrc src;
    DeviceBuffer<typename Src::value_type> staged;  // a host source's copy
  };

  Result<Context> prepare() const {
    Context c;
    if (Stream* s = p.stream()) {
      if (!(s->device() == device))
        return Error(Errc::invalid_argument, "pipeline: its stream is on " + s->device().id().to_string() +
                                                 " but it runs on " + device.id().to_string());
      c.stream = s;
    } else {
      auto own = hetex::detail::pipeline_stream(device);
      if (!own) return std::move(own).error();
      c.stream = *own;
    }
    auto pool = DevicePool::shared(device);
    if (!pool) return std::move(pool).error();
    c.pool = std::move(*pool);
    const Src& src = p.source();
    if constexpr (Src::residence == hetex::detail::Residence::host) {
      using V = typename Src::value_type;
      auto buf = c.pool->template allocate<V>(*c.stream, src.n ? src.n : 1);
      if (!buf) return std::move(buf).error().with_context("staging a pipeline's input on " + device.id().to_string());
      c.staged = std::move(*buf);
      if (src.n) {
        auto up = hetex::detail::upload_bytes(*c.stream, c.staged.view().data(), c.staged.allocation().get(), src.data,
                                              src.n * sizeof(V), hetex::detail::SourceUse::borrowed);
        if (!up) return std::move(up).error();
      }
      c.src = GSrc{c.staged.view().data(), src.n, device.id().index};
    } else {
      c.src = src;
    }
    return c;
  }

  // Reduces `in` (n elements) with op from init; one value back to the host.
  template <class A, class It, class Op>
  Result<A> reduce_to_host(Context& c, It in, std::size_t n, Op op, A init) const {
    auto out = c.pool->template allocate<A>(*c.stream, 1);
    if (!out) return std::move(out).error();
    auto host = PinnedPool::shared().acquire<A>(1);
    if (!host) return std::move(host).error();
    A* d_out = out->view().data();
    HETEX_TRY_VOID(hetex::detail::cub_call(
        *c.stream, *c.pool,
        [&](void* t, std::size_t& b, cudaStream_t s) {
          return hetex::detail::with_count(
              n, [&](auto count) { return cub::DeviceReduce::Reduce(t, b, in, d_out, count, op, init, s); });
        },
        "cub::DeviceReduce::Reduce"));
    cudaError_t err = cudaSuccess;
    A* h = host->span().data();
    auto copied = c.stream->enqueue(
        [&](NativeStream s) { err = cudaMemcpyAsync(h, d_out, sizeof(A), cudaMemcpyDeviceToHost, s); });
    if (err != cudaSuccess) return hetex::detail::cuda_error(err, "copying a reduction's result");
    HETEX_TRY_VOID(copied.get());
    return *h;
  }

  template <class Lift>
  auto fused_begin(const Context& c, Lift lift) const {
    return thrust::make_transform_iterator(hetex::detail::gpu_begin(c.src),
                                           hetex::detail::Fused<Chain, Lift>{p.chain(), lift});
  }

  Result<T> sum() const {
    if (p.input_size() == 0) return T{};
    auto c = HETEX_TRY(prepare());
    return reduce_to_host(c, fused_begin(c, hetex::detail::LiftOr<T>{T{}}), c.src.n, hetex::detail::Plus{}, T{});
  }

  Result<std::size_t> count() const {
    if constexpr (!P::has_filter) {
      return p.input_size();
    } else {
      if (p.input_size() == 0) return std::size_t(0);
      auto c = HETEX_TRY(prepare());
      auto r = reduce_to_host(c, fused_begin(c, hetex::detail::LiftCount{}), c.src.n, hetex::detail::Plus{}, 0ull);
      if (!r) return std::move(r).error();
      return static_cast<std::size_t>(*r);
    }
  }

  template <bool Min>
  Result<std::optional<T>> extremum() const {
    using A = hetex::detail::Maybe<T>;
    if (p.input_size() == 0) return std::optional<T>();
    auto c = HETEX_TRY(prepare());
    auto r = reduce_to_host(c, fused_begin(c, hetex::detail::LiftMaybe<T>{}), c.src.n,
                            hetex::detail::Extremum<T, Min>{}, A{T{}, false});
    if (!r) return std::move(r).error();
    return r->ok ? std::optional<T>(r->value) : std::nullopt;
  }

  template <class Op>
  Result<T> reduce(T init, Op op) const {
    if (p.input_size() == 0) return init;
    auto c = HETEX_TRY(prepare());
    if constexpr (!P::has_filter) {
      // No element is ever dropped, so no identity is needed: CUB folds init in once.
      return reduce_to_host(c, fused_begin(c, hetex::detail::LiftOr<T>{T{}}), c.src.n,
                            hetex::detail::Combine<T, Op>{op}, init);
    } else {
      using A = hetex::detail::Maybe<T>;
      auto r = reduce_to_host(c, fused_begin(c, hetex::detail::LiftMaybe<T>{}), c.src.n,
                              hetex::detail::MaybeCombine<T, Op>{op}, A{init, true});
      if (!r) return std::move(r).error();
      return r->value;
    }
  }

  // The survivors into `out` (room for n), returning how many there are.
  Result<std::size_t> select_into(Context& c, T* out) const {
    const std::size_t n = c.src.n;
    if (n == 0) return std::size_t(0);
    auto begin = hetex::detail::gpu_begin(c.src);
    if constexpr (!P::has_filter) {
      HETEX_TRY_VOID(hetex::detail::cub_call(
          *c.stream, *c.pool,
          [&](void* t, std::size_t& b, cudaStream_t s) -> cudaError_t {
            if (t == nullptr) {
              b = 0;
              return cudaSuccess;
            }
            return hetex::detail::with_count(n, [&](auto count) {
              return cub::DeviceTransform::Transform(begin, out, count, hetex::detail::ChainValue<Chain>{p.chain()}, s);
            });
          },
          "cub::DeviceTransform::Transform"));
      return n;
    } else {
      auto num = c.pool->template allocate<long long>(*c.stream, 1);
      if (!num) return std::move(num).error();
      long long* d_num = num->view().data();
      auto select = [&](auto in, auto out_it, auto pred) {
        return hetex::detail::cub_call(
            *c.stream, *c.pool,
            [&](void* t, std::size_t& b, cudaStream_t s) {
              return hetex::detail::with_count(
                  n, [&](auto count) { return cub::DeviceSelect::If(t, b, in, out_it, d_num, count, pred, s); });
            },
            "cub::DeviceSelect::If");
      };
      if constexpr (hetex::detail::filter_after_maps_v<Chain, typename Src::value_type>) {
        // maps then one filter: select the mapped values with the filter's predicate, as a
        // hand-written DeviceSelect::If over a transform iterator would.
        using Prev = decltype(p.chain().prev);
        const auto& chain = p.chain();
        if constexpr (std::is_same_v<Prev, hetex::detail::Identity> && std::is_pointer_v<decltype(begin)>) {
          HETEX_TRY_VOID(select(begin, out, hetex::detail::Predicate<decltype(chain.p)>{chain.p}));
        } else {
          auto in = thrust::make_transform_iterator(begin, hetex::detail::ChainValue<Prev>{chain.prev});
          HETEX_TRY_VOID(select(in, out, hetex::detail::Predicate<decltype(chain.p)>{chain.p}));
        }
      } else {
        auto in = fused_begin(c, hetex::detail::LiftMaybe<T>{});
        auto out_it = thrust::make_transform_output_iterator(out, hetex::detail::TakeValue<T>{});
        HETEX_TRY_VOID(select(in, out_it, hetex::detail::IsPresent<T>{}));
      }
      auto host = PinnedPool::shared().acquire<long long>(1);
      if (!host) return std::move(host).error();
      long long* h = host->span().data();
      cudaError_t err = cudaSuccess;
      auto copied = c.stream->enqueue(
          [&](NativeStream s) { err = cudaMemcpyAsync(h, d_num, sizeof(long long), cudaMemcpyDeviceToHost, s); });
      if (err != cudaSuccess) return hetex::detail::cuda_error(err, "copying a selection's count");
      HETEX_TRY_VOID(copied.get());
      return static_cast<std::size_t>(*h);
    }
  }

  // Device results as the caller gets them: a vector for host sources, an exact-size buffer otherwise.
  Result<Seq> deliver(Context& c, DeviceBuffer<T>& d, std::size_t count) const {
    if constexpr (P::device_source) {
      if (count == d.size()) return std::move(d);
      auto exact = DeviceBuffer<T>::allocate(device, count);
      if (!exact) return std::move(exact).error();
      if (count) HETEX_TRY_VOID(c.stream->copy(d.read().subview(0, count), exact->write()).get());
      HETEX_TRY_VOID(c.stream->synchronize());  // `d` goes back to the pool in stream order
      return std::move(*exact);
    } else {
      std::vector<T> v(count);
      if (count) {
        auto g = hetex::detail::download_bytes(*c.stream, v.data(), d.view().data(), d.allocation().get(),
                                               count * sizeof(T));
        if (!g) return std::move(g).error();
        HETEX_TRY_VOID(c.stream->synchronize());
      }
      return v;
    }
  }

  Result<Seq> collect() const {
    auto c = HETEX_TRY(prepare());
    auto d = c.pool->template allocate<T>(*c.stream, c.src.n ? c.src.n : 1);
    if (!d) return std::move(d).error();
    auto count = HETEX_TRY(select_into(c, d->view().data()));
    if (c.src.n == 0) return deliver(c, *d, 0);
    return deliver(c, *d, count);
  }

  Result<std::size_t> collect_into(DeviceBuffer<T>& out) const {
    if (out.size() < p.input_size())
      return Error(Errc::invalid_argument, "pipeline collect_into: the output holds " + std::to_string(out.size()) +
                                               " elements but the input has " + std::to_string(p.input_size()));
    if (out.device_index() != device.id().index)
      return Error(Errc::invalid_argument, "pipeline collect_into: the output is on another GPU than the input");
    auto c = HETEX_TRY(prepare());
    return select_into(c, out.view().data());
  }

  template <class Op>
  Result<Seq> scan(Op op, std::optional<T> init) const {
    auto c = HETEX_TRY(prepare());
    const std::size_t n = c.src.n;
    auto d = c.pool->template allocate<T>(*c.stream, n ? n : 1);
    if (!d) return std::move(d).error();
    T* out = d->view().data();
    std::size_t count = n;
    hetex::detail::Combine<T, Op> combine{op};
    auto run_scan = [&](auto in) -> Status {
      if (count == 0) return {};
      return hetex::detail::cub_call(
          *c.stream, *c.pool,
          [&](void* t, std::size_t& b, cudaStream_t s) {
            return hetex::detail::with_count(count, [&](auto k) {
              if (init) return cub::DeviceScan::ExclusiveScan(t, b, in, out, combine, *init, k, s);
              return cub::DeviceScan::InclusiveScan(t, b, in, out, combine, k, s);
            });
          },
          "cub::DeviceScan");
    };
    if constexpr (P::has_filter) {
      // The survivors first (their number decides the scan's length), then the scan in place.
      count = HETEX_TRY(select_into(c, out));
      HETEX_TRY_VOID(run_scan(static_cast<const T*>(out)));
    } else {
      HETEX_TRY_VOID(run_scan(thrust::make_transform_iterator(hetex::detail::gpu_begin(c.src),
                                                              hetex::detail::ChainValue<Chain>{p.chain()})));
    }
    return deliver(c, *d, count);
  }

  template <class F>
  Result<bool> for_each(F f) const {
    if (p.input_size() == 0) return true;
    auto c = HETEX_TRY(prepare());
    hetex::detail::ForEachIndex<GSrc, Chain, F> op{c.src, p.chain(), f};
    cudaError_t err = cudaSuccess;
    auto done = c.stream->enqueue([&](NativeStream s) {
      err = hetex::detail::with_count(c.src.n, [&](auto k) {
        return cub::DeviceFor::ForEachN(thrust::counting_iterator<std::size_t>(0), k, op, s);
      });
    });
    if (err != cudaSuccess) return hetex::detail::cuda_error(err, "cub::DeviceFor::ForEachN");
    HETEX_TRY_VOID(done.get());
    return true;
  }
};

}  // namespace HETEX_PIPELINE_ABI
}  // namespace hetex
