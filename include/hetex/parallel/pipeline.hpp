// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Fused data-parallel pipelines: a source, any number of map and filter stages, and one terminal
/// that runs the whole chain as ONE pass over the data.
///
/// @code
/// std::vector<float> v = ...;
/// float s = hetex::pipeline(v).map([](float x) { return x * x; })
///                             .filter([](float x) { return x < 1e3f; })
///                             .sum().value();
/// @endcode
///
/// Nothing runs until a terminal: reduce(init, op), sum(), count(), min(), max(), scan(op),
/// exclusive_scan(init, op), collect(), collect_into(out) or for_each(f). Each returns `Result<...>`:
/// GPU work can fail (out of memory, a lost device) and that comes back as a value.
///
/// Where it runs:
/// - host sources (spans, vectors) and counting ranges run on the CPU, with TBB, unless told
///   otherwise: .on(device) pins a device; .on(scheduler) lets the scheduler's cost model pick
///   the faster device for this pipeline and size (it learns from every run);
/// - device-buffer sources run on their GPU.
///
/// On the GPU map/filter/reduce is one CUB reduction over a fused transform iterator, and
/// filter→collect is one CUB selection (single-pass, decoupled look-back).
///
/// GPU execution needs the user's functions to be device code: write them as
/// `[] __host__ __device__ (float x) { ... }` and compile the file with nvcc (a .cu file; hetex's
/// CMake passes --extended-lambda). A function object works when its operator() is
/// `__host__ __device__` and it declares `using hetex_device_callable = void;`. In a file compiled
/// without nvcc the same code runs on the CPU; a device-buffer source, which cannot, is a
/// compile-time error there, as is a host-only function reaching a device-buffer source.
///
/// Semantics:
/// - reduce(init, op): init op x0 op x1 ...; op must be associative (the order of combination is
///   unspecified, so float results differ from a sequential loop by rounding); init is used once.
/// - sum() = reduce(T{}, +); count() counts the survivors of the filters.
/// - min()/max(): std::nullopt when no element survives; NaN propagates (a NaN anywhere gives
///   NaN), on the CPU and GPU alike, so the result never depends on the order of combination.
/// - scan(op) is inclusive, exclusive_scan(init, op) exclusive, over the elements that survive.
/// - collect(): a std::vector for host sources and counting ranges (wherever they ran), a
///   DeviceBuffer for device sources.
/// - for_each(f): f(x) for every surviving element, in no particular order and concurrently.
/// - Element types are default-constructible and trivially copyable (they cross to devices).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_scan.h>

#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/memory/buffer.hpp"

#if defined(__CUDACC__)
#define HETEX_HD __host__ __device__
// Pipelines instantiated by nvcc carry a GPU path that host-compiled ones lack; distinct inline
// namespaces keep the linker from merging the two kinds of instantiation.
#define HETEX_PIPELINE_ABI pipeline_cuda
#else
#define HETEX_HD
#define HETEX_PIPELINE_ABI pipeline_host
#endif

namespace hetex {

class Scheduler;
class Stream;

namespace detail {
template <class F, class = void>
struct declares_device_callable : std::false_type {};
template <class F>
struct declares_device_callable<F, std::void_t<typename F::hetex_device_callable>> : std::true_type {};

template <class F>
struct is_std_function_object : std::false_type {};
template <class T>
struct is_std_function_object<std::plus<T>> : std::true_type {};
template <class T>
struct is_std_function_object<std::minus<T>> : std::true_type {};
template <class T>
struct is_std_function_object<std::multiplies<T>> : std::true_type {};
template <class T>
struct is_std_function_object<std::bit_and<T>> : std::true_type {};
template <class T>
struct is_std_function_object<std::bit_or<T>> : std::true_type {};
template <class T>
struct is_std_function_object<std::bit_xor<T>> : std::true_type {};
template <class T>
struct is_std_function_object<std::logical_and<T>> : std::true_type {};
template <class T>
struct is_std_function_object<std::logical_or<T>> : std::true_type {};
}  // namespace detail

/// Whether F can be called in device code: an nvcc extended `__host__ __device__` lambda, a standard
/// arithmetic function object (constexpr, so device-callable under --expt-relaxed-constexpr), or a
/// function object that says so with `using hetex_device_callable = void;`.
template <class F>
inline constexpr bool is_device_callable_v =
#if defined(__CUDACC__)
    __nv_is_extended_host_device_lambda_closure_type(F) ||
#endif
    detail::declares_device_callable<F>::value || detail::is_std_function_object<F>::value;

/// The integers [first, last), generated on the fly: no memory is read.
template <class I>
struct CountingRange {  ///< see counting()
  static_assert(std::is_integral_v<I>, "counting ranges are of integers");
  I first{};
  I last{};
};
/// The integers [first, last) as a pipeline source (empty when last < first).
template <class I>
CountingRange<I> counting(I first, I last) {
  return {first, last < first ? first : last};
}

namespace detail {

enum class Residence : std::uint8_t { host, device, generated };

// Sources read element i; they are trivially copyable so that device code gets them by value.
template <class T>
struct HostSource {
  using value_type = T;
  static constexpr Residence residence = Residence::host;
  const T* data = nullptr;
  std::size_t n = 0;
  HETEX_HD const T& at(std::size_t i) const { return data[i]; }
  HostSource slice(std::size_t b, std::size_t e) const { return {data + b, e - b}; }
};
template <class T>
struct DeviceSource {
  using value_type = T;
  static constexpr Residence residence = Residence::device;
  const T* data = nullptr;  // a device address
  std::size_t n = 0;
  int device = -1;
  HETEX_HD const T& at(std::size_t i) const { return data[i]; }
};
template <class I>
struct CountingSource {
  using value_type = I;
  static constexpr Residence residence = Residence::generated;
  I first{};
  std::size_t n = 0;
  HETEX_HD I at(std::size_t i) const { return static_cast<I>(first + static_cast<I>(i)); }
  CountingSource slice(std::size_t b, std::size_t e) const { return {at(b), e - b}; }
};

// What a stage chain yields for one element: Always<T> while no filter can have dropped it (the
// flag is a constant and costs nothing), Maybe<T> after a filter.
template <class T>
struct Always {
  T value;
  static constexpr bool ok = true;
};
template <class T>
struct Maybe {
  T value;
  bool ok;
};
template <class M>
inline constexpr bool is_always_v = false;
template <class T>
inline constexpr bool is_always_v<Always<T>> = true;

struct Identity {
  using hetex_device_callable = void;
  template <class T>
  HETEX_HD Always<T> operator()(const T& x) const {
    return {x};
  }
};

#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <class F, class T>
HETEX_HD auto invoke_stage(const F& f, const T& x) {
  return f(x);
}

template <class Prev, class F>
struct MapStage {
  Prev prev;
  F f;
  template <class T>
  HETEX_HD auto operator()(const T& x) const {
    auto m = prev(x);
    using U = std::decay_t<decltype(invoke_stage(f, m.value))>;
    if constexpr (is_always_v<decltype(m)>) {
      return Always<U>{invoke_stage(f, m.value)};
    } else {
      // A dropped element is not mapped: f may not be defined on it.
      if (m.ok) return Maybe<U>{invoke_stage(f, m.value), true};
      return Maybe<U>{U{}, false};
    }
  }
};

template <class Prev, class P>
struct FilterStage {
  Prev prev;
  P p;
  template <class T>
  HETEX_HD auto operator()(const T& x) const {
    auto m = prev(x);
    using V = decltype(m.value);
    if constexpr (is_always_v<decltype(m)>) {
      const bool keep = static_cast<bool>(invoke_stage(p, m.value));
      return Maybe<V>{m.value, keep};
    } else {
      const bool keep = m.ok && static_cast<bool>(invoke_stage(p, m.value));
      return Maybe<V>{m.value, keep};
    }
  }
};

// Whether every user function in a chain may run on a device.
template <class Chain>
inline constexpr bool chain_device_callable_v = true;
template <class Prev, class F>
inline constexpr bool chain_device_callable_v<MapStage<Prev, F>> =
    chain_device_callable_v<Prev>&& is_device_callable_v<F>;
template <class Prev, class P>
inline constexpr bool chain_device_callable_v<FilterStage<Prev, P>> =
    chain_device_callable_v<Prev>&& is_device_callable_v<P>;

// Combining functions the terminals use; device-callable by construction.
struct Plus {
  using hetex_device_callable = void;
  template <class T>
  HETEX_HD T operator()(const T& a, const T& b) const {
    return a + b;
  }
};

template <class T>
HETEX_HD bool is_nan(const T& x) {
  if constexpr (std::is_floating_point_v<T>)
    return x != x;
  else
    return false;
}

// min()/max() accumulate (value, present); NaN wins so that the result is order-independent.
template <class T, bool Min>
struct Extremum {
  using hetex_device_callable = void;
  HETEX_HD Maybe<T> operator()(const Maybe<T>& a, const Maybe<T>& b) const {
    if (!a.ok) return b;
    if (!b.ok) return a;
    if (is_nan(a.value)) return a;
    if (is_nan(b.value)) return b;
    if constexpr (Min)
      return (b.value < a.value) ? b : a;
    else
      return (a.value < b.value) ? b : a;
  }
};

// reduce(init, op) with a filter: (value, present) pairs, so no identity of op is needed.
template <class T, class Op>
struct MaybeCombine {
  Op op;
  HETEX_HD Maybe<T> operator()(const Maybe<T>& a, const Maybe<T>& b) const {
    if (!a.ok) return b;
    if (!b.ok) return a;
    return {invoke_combine(a.value, b.value), true};
  }
  HETEX_HD T invoke_combine(const T& a, const T& b) const { return combine_call(op, a, b); }
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
  template <class O>
  static HETEX_HD T combine_call(const O& o, const T& a, const T& b) {
    return static_cast<T>(o(a, b));
  }
};

// One element of the chain as the terminal's accumulator type.
template <class Chain, class Lift>
struct Fused {
  Chain chain;
  Lift lift;
  template <class X>
  HETEX_HD auto operator()(const X& x) const {
    return lift(chain(x));
  }
};
template <class T>
struct LiftOr {  // a dropped element becomes the identity
  T identity;
  template <class M>
  HETEX_HD T operator()(const M& m) const {
    if constexpr (is_always_v<M>)
      return static_cast<T>(m.value);
    else
      return m.ok ? static_cast<T>(m.value) : identity;
  }
};
template <class T>
struct LiftZero {  // a dropped element becomes T{}: a sum's identity, known when compiling, so
                   // the select is one AND with the mask rather than a blend of two registers
  template <class M>
  HETEX_HD T operator()(const M& m) const {
    if constexpr (is_always_v<M>)
      return static_cast<T>(m.value);
    else
      return m.ok ? static_cast<T>(m.value) : T{};
  }
};
struct LiftCount {
  template <class M>
  HETEX_HD unsigned long long operator()(const M& m) const {
    if constexpr (is_always_v<M>)
      return 1ull;
    else
      return m.ok ? 1ull : 0ull;
  }
};
template <class T>
struct LiftMaybe {
  template <class M>
  HETEX_HD Maybe<T> operator()(const M& m) const {
    if constexpr (is_always_v<M>)
      return {m.value, true};
    else
      return {m.value, m.ok};
  }
};

// ---------------------------------------------------------------------------------- the CPU path

inline constexpr std::size_t kCpuGrain = std::size_t(1) << 14;

// Folds [0, n) with an identity, eight independent accumulators per task so that the inner loop
// has no single dependency chain and the compiler can vectorize it.
template <class Src, class F, class A, class Op>
A cpu_fold(const Src& src, const F& fused, A identity, Op op) {
  if (src.n == 0) return identity;
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, src.n, kCpuGrain), identity,
      [&](const tbb::blocked_range<std::size_t>& r, A acc) {
        // Local copies: with the functor (and a filter's identity) in registers rather than
        // behind a reference, the compiler turns "kept ? value : identity" into a select
        // instead of a branch that mispredicts on every other element of random data (6x).
        const F f = fused;
        const Src in = src;
        constexpr std::size_t L = 8;
        A lanes[L];
        for (auto& l : lanes) l = identity;
        std::size_t i = r.begin();
        const std::size_t e = r.end();
        for (; i + L <= e; i += L)
          for (std::size_t k = 0; k < L; ++k) lanes[k] = op(lanes[k], f(in.at(i + k)));
        for (; i < e; ++i) lanes[0] = op(lanes[0], f(in.at(i)));
        for (auto& l : lanes) acc = op(acc, l);
        return acc;
      },
      op);
}

// The surviving elements, in order: each block of the input keeps its survivors, then the blocks
// are concatenated in parallel. Without a filter the output is written in place, in one pass.
template <class T, class Src, class Chain>
std::vector<T> cpu_collect(const Src& src, const Chain& chain) {
  using M = decltype(chain(src.at(0)));
  if constexpr (is_always_v<M>) {
    std::vector<T> out(src.n);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, src.n, kCpuGrain), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) out[i] = chain(src.at(i)).value;
    });
    return out;
  } else {
    const std::size_t blocks = (src.n + kCpuGrain - 1) / kCpuGrain;
    std::vector<std::vector<T>> kept(blocks);
    tbb::parallel_for(std::size_t(0), blocks, [&](std::size_t b) {
      const std::size_t end = std::min(src.n, (b + 1) * kCpuGrain);
      auto& k = kept[b];
      for (std::size_t i = b * kCpuGrain; i < end; ++i) {
        auto m = chain(src.at(i));
        if (m.ok) k.push_back(m.value);
      }
    });
    std::vector<std::size_t> offset(blocks + 1, 0);
    for (std::size_t b = 0; b < blocks; ++b) offset[b + 1] = offset[b] + kept[b].size();
    std::vector<T> out(offset[blocks]);
    tbb::parallel_for(std::size_t(0), blocks,
                      [&](std::size_t b) { std::copy(kept[b].begin(), kept[b].end(), out.begin() + offset[b]); });
    return out;
  }
}

// Inclusive (init empty) or exclusive scan of `in` in place.
template <class T, class Op>
void cpu_scan_in_place(std::vector<T>& v, Op op, std::optional<T> init) {
  if (v.empty()) return;
  struct Acc {
    T value{};
    bool ok = false;
  };
  auto combine = [&](const Acc& a, const Acc& b) -> Acc {
    if (!a.ok) return b;
    if (!b.ok) return a;
    return {static_cast<T>(op(a.value, b.value)), true};
  };
  tbb::parallel_scan(
      tbb::blocked_range<std::size_t>(0, v.size(), kCpuGrain), Acc{},
      [&](const tbb::blocked_range<std::size_t>& r, Acc sum, bool final) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) {
          const T x = v[i];
          if (final) {
            if (init)
              v[i] = sum.ok ? static_cast<T>(op(*init, sum.value)) : *init;
            else
              v[i] = sum.ok ? static_cast<T>(op(sum.value, x)) : x;
          }
          sum = combine(sum, Acc{x, true});
        }
        return sum;
      },
      combine);
}

template <class Src, class Chain, class F>
void cpu_for_each(const Src& src, const Chain& chain, F& f) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, src.n, kCpuGrain), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      auto m = chain(src.at(i));
      if (m.ok) f(m.value);
    }
  });
}

// ------------------------------------------------------------------ placement (src/parallel/*.cpp)

// The GPU a device source lives on.
Result<Device> pipeline_gpu(int index);
// Which device runs `n` items of the pipeline `key`: while either device is uncalibrated at this
// size, the one with fewer runs (exploration); then the one the cost model predicts faster.
Device pipeline_choose(Scheduler& scheduler, const std::string& key, std::size_t n, bool gpu_possible);
void pipeline_record(Scheduler& scheduler, const std::string& key, const Device& device, std::size_t n, double seconds);
// Under a Split policy: the shares of n items (one, while a device is being calibrated at this
// size), as the scheduler's route_split plans them; empty under any other policy.
struct PipelineShare {
  Device device;
  std::size_t begin = 0, end = 0;
};
struct PipelineSplit {
  std::vector<PipelineShare> shares;
  bool beside_speeds = false;  // planned from speeds measured in earlier splits
};
PipelineSplit pipeline_split(Scheduler& scheduler, const std::string& key, std::size_t n);
// What a split did: each device's part (beside the others) and, with beside_speeds, the whole.
void pipeline_record_split(Scheduler& scheduler, const std::string& key, const PipelineSplit& plan,
                           std::span<const double> part_seconds, double total_seconds);
std::string pipeline_key(const char* type_name, const char* terminal);
Error pipeline_no_gpu_path(const Device& gpu, bool compiled_by_nvcc);
// The calling thread's stream on `gpu` for pipelines not given one (created on first use).
Result<Stream*> pipeline_stream(const Device& gpu);

}  // namespace detail

inline namespace HETEX_PIPELINE_ABI {

template <class Src, class Chain>
class Pipeline;

#if defined(__CUDACC__)
/// The GPU half of the terminals, defined in pipeline_gpu.cuh (included at the end of this header
/// under nvcc).
template <class Src, class Chain>
struct PipelineGpuRun;
#endif

/// A source and a fused chain of map and filter stages (see the file's description). A cheap value:
/// each stage returns a new pipeline, and nothing runs until a terminal. It borrows its source,
/// which must outlive the terminal's run. The terminals return the device's error
/// (Errc::out_of_memory, Errc::kernel_fault, Errc::device_lost) when GPU work fails.
template <class Src, class Chain>
class Pipeline {
  using M = decltype(std::declval<const Chain&>()(std::declval<const Src&>().at(0)));

 public:
  using value_type = std::decay_t<decltype(std::declval<M>().value)>;
  using source_type = Src;
  using chain_type = Chain;
  static constexpr bool has_filter = !hetex::detail::is_always_v<M>;
  static constexpr bool device_source = Src::residence == hetex::detail::Residence::device;
#if defined(__CUDACC__)
  static constexpr bool compiled_by_nvcc = true;
#else
  static constexpr bool compiled_by_nvcc = false;
#endif
  /// What collect() and the scans give: results stay where the source lives.
  using sequence_type = std::conditional_t<device_source, DeviceBuffer<value_type>, std::vector<value_type>>;
  static_assert(std::is_default_constructible_v<value_type> && std::is_trivially_copyable_v<value_type>,
                "pipeline elements must be default-constructible and trivially copyable");

  Pipeline(Src src, Chain chain) : src_(src), chain_(std::move(chain)) {}

  /// Adds a stage: each element x becomes f(x).
  template <class F>
  auto map(F f) const {
    using Next = hetex::detail::MapStage<Chain, F>;
    return rewrap<Next>(Next{chain_, std::move(f)});
  }
  /// Adds a stage: only the elements with p(x) true go on.
  template <class P>
  auto filter(P p) const {
    using Next = hetex::detail::FilterStage<Chain, P>;
    return rewrap<Next>(Next{chain_, std::move(p)});
  }

  /// Run on this device (the CPU or a GPU). Device sources run on their own GPU whatever this says.
  Pipeline on(const Device& device) const {
    Pipeline p = *this;
    p.where_ = device;
    return p;
  }
  /// Let the scheduler's cost model pick the device for each run (host sources and counting ranges).
  Pipeline on(Scheduler& scheduler) const {
    Pipeline p = *this;
    p.where_ = &scheduler;
    return p;
  }
  /// The GPU work of this pipeline goes on `stream` (which must be on the GPU it runs on), so that
  /// it is ordered with the caller's other work there. The stream must outlive the call.
  Pipeline on(Stream& stream) const {
    Pipeline p = *this;
    p.stream_ = &stream;
    return p;
  }

  /// The scheduler's cost-model key for this pipeline's `terminal` ("sum", "collect", ...).
  static std::string cost_key(const char* terminal) {
    // Not typeid: nvcc's host pass cannot take it of a type holding an extended lambda.
    return hetex::detail::pipeline_key(__PRETTY_FUNCTION__, terminal);
  }

  std::size_t input_size() const noexcept { return src_.n; }
  const Src& source() const noexcept { return src_; }
  const Chain& chain() const noexcept { return chain_; }
  Stream* stream() const noexcept { return stream_; }

  // ------------------------------------------------------------------------------- terminals

  /// init op x0 op x1 ...; op must be associative (see the file's description).
  template <class Op>
  Result<value_type> reduce(value_type init, Op op) const {
    return run<Op>(
        "reduce",
        [&]() -> value_type {
          using T = value_type;
          using A = hetex::detail::Maybe<T>;
          hetex::detail::MaybeCombine<T, Op> combine{op};
          hetex::detail::Fused<Chain, hetex::detail::LiftMaybe<T>> f{chain_, {}};
          A r = hetex::detail::cpu_fold(src_, f, A{T{}, false}, combine);
          return r.ok ? static_cast<T>(op(init, r.value)) : init;
        },
        [&](auto& gpu) { return gpu.reduce(init, op); });
  }

  /// reduce(T{}, +).
  Result<value_type> sum() const {
    if (auto r = split_fold<value_type>(
            "sum", [](const Pipeline& part) { return part.sum(); },
            [](value_type a, value_type b) { return static_cast<value_type>(a + b); }))
      return std::move(*r);
    return run<void>(
        "sum",
        [&]() -> value_type {
          using T = value_type;
          hetex::detail::Fused<Chain, hetex::detail::LiftZero<T>> f{chain_, {}};
          return hetex::detail::cpu_fold(src_, f, T{}, hetex::detail::Plus{});
        },
        [&](auto& gpu) { return gpu.sum(); });
  }

  /// The number of elements that survive the filters.
  Result<std::size_t> count() const {
    if constexpr (has_filter)
      if (auto r = split_fold<std::size_t>(
              "count", [](const Pipeline& part) { return part.count(); },
              [](std::size_t a, std::size_t b) { return a + b; }))
        return std::move(*r);
    return run<void>(
        "count",
        [&]() -> std::size_t {
          if constexpr (!has_filter) return src_.n;
          hetex::detail::Fused<Chain, hetex::detail::LiftCount> f{chain_, {}};
          return static_cast<std::size_t>(hetex::detail::cpu_fold(src_, f, 0ull, hetex::detail::Plus{}));
        },
        [&](auto& gpu) { return gpu.count(); });
  }

  /// The smallest surviving element; nullopt when none survives.
  Result<std::optional<value_type>> min() const { return extremum<true>("min"); }
  /// The largest surviving element; nullopt when none survives.
  Result<std::optional<value_type>> max() const { return extremum<false>("max"); }

  /// Inclusive scan over the surviving elements: out[i] = x0 op ... op xi.
  template <class Op>
  Result<sequence_type> scan(Op op) const {
    auto cpu = [&] { return scan_cpu(op, std::nullopt); };
    auto gpu = [&](auto& g) { return g.scan(op, std::optional<value_type>()); };
    return run_as<Op, sequence_type>("scan", cpu, gpu);
  }
  /// Exclusive scan: out[0] = init, out[i] = init op x0 op ... op x(i-1).
  template <class Op>
  Result<sequence_type> exclusive_scan(value_type init, Op op) const {
    auto cpu = [&] { return scan_cpu(op, std::optional<value_type>(init)); };
    auto gpu = [&](auto& g) { return g.scan(op, std::optional<value_type>(init)); };
    return run_as<Op, sequence_type>("exclusive_scan", cpu, gpu);
  }

  /// The surviving elements in order: `std::vector<T>` for host and counting sources,
  /// `DeviceBuffer<T>` (sized to fit) for device sources.
  Result<sequence_type> collect() const {
    auto cpu = [&] { return collect_cpu(); };
    auto gpu = [&](auto& g) { return g.collect(); };
    return run_as<void, sequence_type>("collect", cpu, gpu);
  }
  /// Device sources only: the surviving elements written into `out` (which needs room for every
  /// input element); returns how many there are. No allocation, one pass.
  Result<std::size_t> collect_into(DeviceBuffer<value_type>& out) const requires(device_source) {
    return run<void>(
        "collect_into", [&]() -> std::size_t { return 0; }, [&](auto& gpu) { return gpu.collect_into(out); });
  }

  /// f(x) for every surviving element, concurrently and in no particular order.
  template <class F>
  Status for_each(F f) const {
    auto done = run<F>(
        "for_each",
        [&] {
          hetex::detail::cpu_for_each(src_, chain_, f);
          return true;
        },
        [&](auto& gpu) { return gpu.for_each(f); });
    if (!done) return std::move(done).error();
    return {};
  }

 private:
  template <class S, class C>
  friend class Pipeline;

  /// Under a Split scheduler, a fold whose parts combine (sum, count, min, max) runs on the CPU
  /// and the GPUs at once, each over the share the cost model gives it; nullopt otherwise.
  template <class R, class Part, class Combine>
  std::optional<Result<R>> split_fold(const char* terminal, Part part, Combine combine) const {
    if constexpr (device_source || !compiled_by_nvcc || !gpu_capable<void>()) {
      (void)terminal, (void)part, (void)combine;
      return std::nullopt;
    } else {
      Scheduler* const* sched = std::get_if<Scheduler*>(&where_);
      if (!sched) return std::nullopt;
      const std::string key = cost_key(terminal);
      const auto plan = hetex::detail::pipeline_split(**sched, key, src_.n);
      if (plan.shares.empty()) return std::nullopt;
      using Clock = std::chrono::steady_clock;
      const auto start = Clock::now();
      std::vector<double> seconds(plan.shares.size(), 0);
      auto run_share = [&](std::size_t i) -> Result<R> {
        const auto& sh = plan.shares[i];
        Pipeline p = *this;
        p.src_ = src_.slice(sh.begin, sh.end);
        p.where_ = sh.device;
        const auto t0 = Clock::now();
        Result<R> r = part(p);
        seconds[i] = std::chrono::duration<double>(Clock::now() - t0).count();
        return r;
      };
      // The first share (the CPU's, when it has one) runs here, the others on threads of their own.
      std::vector<std::future<Result<R>>> others;
      for (std::size_t i = 1; i < plan.shares.size(); ++i)
        others.push_back(std::async(std::launch::async, run_share, i));
      Result<R> acc = run_share(0);
      for (auto& f : others) {
        Result<R> r = f.get();
        // (void): nvcc warns (#2810-D) on the unused Result& an assignment returns.
        if (acc && r)
          (void)(acc = combine(*acc, *r));
        else if (acc)
          (void)(acc = std::move(r).error());
      }
      if (!acc) return acc;
      if (plan.shares.size() == 1) {
        hetex::detail::pipeline_record(**sched, key, plan.shares[0].device, src_.n, seconds[0]);
      } else {
        hetex::detail::pipeline_record_split(**sched, key, plan, seconds,
                                             std::chrono::duration<double>(Clock::now() - start).count());
      }
      return acc;
    }
  }

  template <class Next>
  Pipeline<Src, Next> rewrap(Next next) const {
    Pipeline<Src, Next> p(src_, std::move(next));
    p.where_ = where_;
    p.stream_ = stream_;
    return p;
  }

  template <bool Min>
  Result<std::optional<value_type>> extremum(const char* name) const {
    using O = std::optional<value_type>;
    if (auto r = split_fold<O>(
            name, [](const Pipeline& part) { return part.template extremum<Min>(Min ? "min" : "max"); },
            [](const O& a, const O& b) -> O {
              if (!a) return b;
              if (!b) return a;
              return (Min ? *b < *a : *a < *b) ? b : a;
            }))
      return std::move(*r);
    return run<void>(
        name,
        [&]() -> std::optional<value_type> {
          using T = value_type;
          using A = hetex::detail::Maybe<T>;
          hetex::detail::Fused<Chain, hetex::detail::LiftMaybe<T>> f{chain_, {}};
          A r = hetex::detail::cpu_fold(src_, f, A{T{}, false}, hetex::detail::Extremum<T, Min>{});
          return r.ok ? std::optional<T>(r.value) : std::nullopt;
        },
        [&](auto& gpu) { return gpu.template extremum<Min>(); });
  }

  template <class Op>
  std::vector<value_type> scan_cpu(Op& op, std::optional<value_type> init) const {
    auto v = collect_cpu();
    hetex::detail::cpu_scan_in_place(v, op, init);
    return v;
  }
  std::vector<value_type> collect_cpu() const { return hetex::detail::cpu_collect<value_type>(src_, chain_); }

  /// Whether this instantiation has a GPU path: compiled by nvcc with device-callable functions
  /// (Extra: the terminal's own function).
  template <class Extra>
  static constexpr bool gpu_capable() {
    constexpr bool extra_ok = std::is_void_v<Extra> || is_device_callable_v<Extra>;
    return compiled_by_nvcc && hetex::detail::chain_device_callable_v<Chain> && extra_ok;
  }

  /// Runs the terminal where the placement says; `cpu()` returns the value, `gpu(runner)` a Result.
  template <class Extra, class Cpu, class Gpu>
  auto run(const char* terminal, Cpu&& cpu, Gpu&& gpu) const {
    return run_as<Extra, std::decay_t<decltype(cpu())>>(terminal, cpu, gpu);
  }
  template <class Extra, class R, class Cpu, class Gpu>
  Result<R> run_as(const char* terminal, Cpu& cpu, Gpu& gpu) const {
    if constexpr (device_source) {
      static_assert(compiled_by_nvcc && sizeof(R) > 0,
                    "hetex::pipeline over device memory runs on the GPU: compile this file with nvcc (a .cu file) "
                    "or download the data and use a host source");
      static_assert(!compiled_by_nvcc || gpu_capable<Extra>(),
                    "hetex::pipeline on the GPU: every map/filter/reduce/for_each function must be a "
                    "[] __host__ __device__ (...) { ... } lambda (nvcc --extended-lambda), a std:: arithmetic "
                    "function object, or a function object with a __host__ __device__ operator() that declares "
                    "using hetex_device_callable = void;");
      (void)terminal;
      (void)cpu;
      auto dev = hetex::detail::pipeline_gpu(src_.device);
      if (!dev) return std::move(dev).error();
      return run_gpu<Extra, R>(*dev, gpu);
    } else {
      if (std::holds_alternative<Scheduler*>(where_)) {
        Scheduler& sched = *std::get<Scheduler*>(where_);
        const std::string key = cost_key(terminal);
        Device d = hetex::detail::pipeline_choose(sched, key, src_.n, gpu_capable<Extra>());
        const auto t0 = std::chrono::steady_clock::now();
        Result<R> r = d.is_cpu() ? Result<R>(cpu()) : run_gpu<Extra, R>(d, gpu);
        if (r) {
          const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
          hetex::detail::pipeline_record(sched, key, d, src_.n, dt.count());
        }
        return r;
      }
      if (const Device* d = std::get_if<Device>(&where_); d && d->is_gpu()) return run_gpu<Extra, R>(*d, gpu);
      return cpu();
    }
  }

  template <class Extra, class R, class Gpu>
  Result<R> run_gpu(const Device& device, Gpu& gpu) const {
#if defined(__CUDACC__)
    if constexpr (gpu_capable<Extra>()) {
      PipelineGpuRun<Src, Chain> runner{*this, device};
      return gpu(runner);
    }
#endif
    (void)gpu;
    return hetex::detail::pipeline_no_gpu_path(device, compiled_by_nvcc);
  }

  Src src_;
  Chain chain_;
  std::variant<std::monostate, Device, Scheduler*> where_;
  Stream* stream_ = nullptr;
};

// --------------------------------------------------------------------------------- sources

/// Host memory: the pipeline borrows `data`, which must outlive the terminal's run.
template <class T>
Pipeline<hetex::detail::HostSource<T>, hetex::detail::Identity> pipeline(std::span<const T> data) {
  return {{data.data(), data.size()}, {}};
}
template <class T>
Pipeline<hetex::detail::HostSource<T>, hetex::detail::Identity> pipeline(std::span<T> data) {
  return {{data.data(), data.size()}, {}};
}
template <class T, class A>
Pipeline<hetex::detail::HostSource<T>, hetex::detail::Identity> pipeline(const std::vector<T, A>& data) {
  return {{data.data(), data.size()}, {}};
}
/// The vector would die before the terminal runs: keep it in a variable.
template <class T, class A>
void pipeline(std::vector<T, A>&& data) = delete;

template <class I>
Pipeline<hetex::detail::CountingSource<I>, hetex::detail::Identity> pipeline(CountingRange<I> r) {
  return {{r.first, static_cast<std::size_t>(r.last - r.first)}, {}};
}

/// Device memory: the pipeline runs on that GPU (the file must be compiled by nvcc).
template <class T>
Pipeline<hetex::detail::DeviceSource<T>, hetex::detail::Identity> pipeline(const DeviceBuffer<T>& data) {
  return {{data.view().data(), data.size(), data.device_index()}, {}};
}

}  // namespace HETEX_PIPELINE_ABI
}  // namespace hetex

#if defined(__CUDACC__)
#include "hetex/parallel/pipeline_gpu.cuh"
#endif
