// SPDX-License-Identifier: MIT
// map -> filter -> sum/count/min/max on Vulkan: one kernel per (element type, map, filter), built
// in for the identity and the benchmark's stages, compiled at run time for any other; workgroup
// partial results combined on the host in a fixed order.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "hetex/async/transfer.hpp"
#include "vulkan/compiler.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/ops_common.hpp"
#include "vulkan/recording.hpp"
#include "vulkan/staging.hpp"

namespace hetex::vulkan {
namespace {

constexpr char kTemplate[] =
#include "reduce_glsl.inc"
    ;

constexpr std::uint32_t kGroup = 256;
constexpr std::uint64_t kPartialBytes = 32;  // two uvec4 per workgroup
constexpr std::uint64_t kChunkBytes = std::uint64_t(16) << 20;

struct Push {
  std::uint32_t n;
};

template <class T>
constexpr int type_code() {
  if constexpr (std::is_same_v<T, float>)
    return 0;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return 1;
  else
    return 2;
}
template <class T>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<T, float>)
    return "f32";
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return "i32";
  else
    return "u32";
}

bool is_identity(const ReduceSpec& s) { return s.map == "x" && s.filter == "true"; }
bool is_square_below_quarter(const ReduceSpec& s) {
  const ReduceSpec b = square_below_quarter();
  return s.map == b.map && s.filter == b.filter;
}

// The template with the caller's stages in place of its marker line; #line directives make the
// compiler's log name "map" and "filter" and the lines of the expressions.
Result<std::string> runtime_source(const ReduceSpec& spec) {
  std::string src = kTemplate;
  const std::string marker = "//@stages\n";
  const auto at = src.find(marker);
  if (at == std::string::npos) return Error(Errc::internal, "reduce.comp has lost its //@stages marker");
  const auto line = 1 + std::count(src.begin(), src.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  const std::string stages = "#line 1 \"map\"\nT hetex_map(T x) { return T(" + spec.map +
                             "\n); }\n#line 1 \"filter\"\n" + "bool hetex_filter(T y) { return bool(" + spec.filter +
                             "\n); }\n#line " + std::to_string(line + 1) + " \"reduce.comp\"\n";
  src.replace(at, marker.size(), stages);
  return src;
}

template <class T>
Result<const Kernel*> reduce_kernel(Device& dev, const ReduceSpec& spec) {
  if (!dev.info().subgroup_arithmetic)
    return Error(Errc::unavailable,
                 dev.name() + " has no subgroup arithmetic in compute shaders, which the reductions need");
  const std::vector<std::uint32_t> constants = {detail::workgroup(dev, kGroup)};
  if (is_identity(spec))
    return detail::builtin_kernel(dev, std::string("reduce_") + type_name<T>(), 2, sizeof(Push), constants);
  if (std::is_same_v<T, float> && is_square_below_quarter(spec))
    return detail::builtin_kernel(dev, "reduce_f32_square_below_quarter", 2, sizeof(Push), constants);
  const std::string source = HETEX_TRY(runtime_source(spec));
  GlslOptions o;
  o.defines = {{"HETEX_TYPE", std::to_string(type_code<T>())}};
  o.file_name = "reduce.comp";
  const auto words = HETEX_TRY(compile_glsl(source, o));
  KernelSpec k;
  k.name = std::string("reduce_") + type_name<T>() + " map{" + spec.map + "} filter{" + spec.filter + "}";
  k.spirv = *words;
  k.buffers = 2;
  k.push_bytes = sizeof(Push);
  k.constants = constants;
  return dev.kernel(k);
}

std::uint32_t group_cap(const Device& dev) {
  const auto& info = dev.info();
  if (info.multiprocessors) return 8 * info.multiprocessors;
  return info.is_cpu() ? 16 : 1024;
}

// Partial results combined in workgroup order: the same inputs give the same result.
template <class T>
struct Accumulator {
  double fsum = 0;
  std::uint32_t isum = 0;
  std::uint64_t count = 0, nans = 0;
  // Float partials of workgroups with no survivors hold +-infinity, like the kernel's start values.
  T lo = std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  T hi = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  void add(const std::uint32_t* p, std::uint64_t groups) {
    for (std::uint64_t g = 0; g < groups; ++g, p += 8) {
      if constexpr (std::is_same_v<T, float>) {
        fsum += double(std::bit_cast<float>(p[0]));
        lo = std::min(lo, std::bit_cast<float>(p[2]));
        hi = std::max(hi, std::bit_cast<float>(p[3]));
      } else {
        isum += p[0];
        lo = std::min(lo, static_cast<T>(p[2]));
        hi = std::max(hi, static_cast<T>(p[3]));
      }
      count += p[1];
      nans += p[4];
    }
  }
  Reduced<T> result() const {
    Reduced<T> r;
    r.count = count;
    if constexpr (std::is_same_v<T, float>) {
      r.sum = float(fsum);
      if (nans) r.sum = std::numeric_limits<float>::quiet_NaN();
    } else {
      r.sum = static_cast<T>(isum);
    }
    if (count) {
      r.min = nans ? std::numeric_limits<T>::quiet_NaN() : lo;
      r.max = nans ? std::numeric_limits<T>::quiet_NaN() : hi;
    }
    return r;
  }
};

std::uint32_t groups_for_elements(const Device& dev, std::uint64_t n) {
  return detail::groups_for(dev, (n + 3) / 4, detail::workgroup(dev, kGroup), group_cap(dev));
}

}  // namespace

ReduceSpec square_below_quarter() { return {"x * x", "y < 0.25"}; }

template <class T>
Result<Reduced<T>> reduce(Device& dev, const ReduceSpec& spec, std::span<const T> data) {
  const Kernel* k = HETEX_TRY(reduce_kernel<T>(dev, spec));
  Accumulator<T> acc;
  const std::uint64_t n = data.size();
  if (n == 0) return acc.result();
  const std::uint64_t per = std::min<std::uint64_t>(kChunkBytes, dev.info().max_storage_buffer_range / 256 * 256) / 4;
  const std::uint64_t partials = std::uint64_t(group_cap(dev)) * kPartialBytes;
  const SlotSizes sizes{per * 4, per * 4, partials, partials};
  auto len_of = [&](std::size_t c) { return std::min<std::uint64_t>(per, n - c * per); };
  ChunkSteps steps;
  steps.pack = [&](std::size_t c, Slot& s) -> Result<ChunkWork> {
    const std::uint64_t len = len_of(c);
    hetex::detail::parallel_copy(s.up.host().data(), data.data() + c * per, len * 4);
    return ChunkWork{0, len * 4, groups_for_elements(dev, len) * kPartialBytes};
  };
  steps.dispatch = [&](std::size_t c, Slot& s, Recording& rec) -> Status {
    const std::uint64_t len = len_of(c);
    const std::uint32_t groups = groups_for_elements(dev, len);
    return rec.dispatch(*k, {{&s.in, 0, detail::round_up(len * 4, 16)}, {&s.out, 0, groups * kPartialBytes}},
                        Push{static_cast<std::uint32_t>(len)}, groups);
  };
  steps.unpack = [&](std::size_t c, Slot& s) -> Status {
    acc.add(reinterpret_cast<const std::uint32_t*>(s.down.host().data()), groups_for_elements(dev, len_of(c)));
    return {};
  };
  HETEX_TRY_VOID(run_chunks(dev, sizes, 3, chunk_count(n, per), steps));
  return acc.result();
}

template <class T>
Result<Reduced<T>> reduce_resident(Device& dev, const ReduceSpec& spec, const Buffer& data, std::uint64_t n) {
  if (!data || &data.device() != &dev)
    return Error(Errc::invalid_argument, "reduce_resident: the data must live on " + dev.name());
  if (data.size() < n * 4)
    return Error(Errc::invalid_argument, "reduce_resident: a buffer of " + std::to_string(data.size()) +
                                             " bytes holds fewer than " + std::to_string(n) + " elements");
  const Kernel* k = HETEX_TRY(reduce_kernel<T>(dev, spec));
  Accumulator<T> acc;
  if (n == 0) return acc.result();
  const std::uint64_t per =
      std::min<std::uint64_t>(std::uint64_t(1) << 30, dev.info().max_storage_buffer_range / 256 * 64);
  const std::uint64_t dispatches = (n + per - 1) / per;
  const std::uint64_t cap = std::uint64_t(group_cap(dev)) * kPartialBytes;
  // The partial results and their readback buffer come from the device's pool: allocating them
  // costs more than the reduction of a few hundred MiB.
  const SlotLease scratch = HETEX_TRY(SlotLease::take(dev, {0, 0, dispatches * cap, dispatches * cap}));
  Buffer &out = scratch->out, &back = scratch->down;
  auto rec = HETEX_TRY(Recording::begin(dev, QueueRole::compute));
  for (std::uint64_t d = 0; d < dispatches; ++d) {
    const std::uint64_t b = d * per, len = std::min(per, n - b);
    const std::uint32_t groups = groups_for_elements(dev, len);
    HETEX_TRY_VOID(
        rec.dispatch(*k, {{&data, b * 4, detail::round_up(len * 4, 16)}, {&out, d * cap, groups * kPartialBytes}},
                     Push{static_cast<std::uint32_t>(len)}, groups));
  }
  rec.barrier(Access::compute, Access::transfer);
  rec.copy(out, 0, back, 0, dispatches * cap);
  rec.barrier(Access::transfer, Access::host);
  const TimelinePoint done = HETEX_TRY(rec.submit());
  HETEX_TRY_VOID(dev.wait(done));
  HETEX_TRY_VOID(back.invalidate(0, VK_WHOLE_SIZE));
  for (std::uint64_t d = 0; d < dispatches; ++d) {
    const std::uint64_t len = std::min(per, n - d * per);
    acc.add(reinterpret_cast<const std::uint32_t*>(back.host().data() + d * cap), groups_for_elements(dev, len));
  }
  return acc.result();
}

template Result<Reduced<float>> reduce(Device&, const ReduceSpec&, std::span<const float>);
template Result<Reduced<std::int32_t>> reduce(Device&, const ReduceSpec&, std::span<const std::int32_t>);
template Result<Reduced<std::uint32_t>> reduce(Device&, const ReduceSpec&, std::span<const std::uint32_t>);
template Result<Reduced<float>> reduce_resident(Device&, const ReduceSpec&, const Buffer&, std::uint64_t);
template Result<Reduced<std::int32_t>> reduce_resident(Device&, const ReduceSpec&, const Buffer&, std::uint64_t);
template Result<Reduced<std::uint32_t>> reduce_resident(Device&, const ReduceSpec&, const Buffer&, std::uint64_t);

}  // namespace hetex::vulkan
