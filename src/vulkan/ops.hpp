// SPDX-License-Identifier: MIT
#pragma once
// The built-in workloads on a Vulkan device, each bit-identical with hetex's CPU implementation:
// vector add/multiply, SHA-256 of many messages, Ed25519 verification (libsodium's verdicts), the
// gray -> Gaussian blur -> Sobel image pipeline (OpenCV's results), and map -> filter ->
// sum/count/min/max reductions.
//
// Two entry points per workload: host memory -> host memory (chunks staged through the device,
// returns when the output is filled), and device-resident (buffers already on the device; the
// work is submitted to the compute queue and a TimelinePoint says when it is done; as_future()
// turns it into a hetex Future).
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "hetex/async/future.hpp"
#include "hetex/exec/batch.hpp"
#include "hetex/ops/ed25519.hpp"
#include "hetex/ops/image.hpp"
#include "hetex/ops/messages.hpp"
#include "hetex/ops/sha256.hpp"
#include "hetex/ops/vector.hpp"
#include "ops/image_rows.hpp"
#include "vulkan/device.hpp"
#include "vulkan/memory.hpp"

namespace hetex::vulkan {

// A hetex Future that is ready when `point` is reached (an error future for an error).
Future<void> as_future(Device& device, Result<TimelinePoint> point);

// ---- vector --------------------------------------------------------------------------------
Status vector(Device& device, ops::VectorKind kind, const ZipBatch<float>& in, std::span<float> out);
// out[0, n) = x[0, n) op y[0, n); the three buffers on `device`, each at least n floats (a binding
// holds at most maxStorageBufferRange bytes; larger n goes in several dispatches).
Result<TimelinePoint> vector_resident(Device& device, ops::VectorKind kind, const Buffer& x, const Buffer& y,
                                      const Buffer& out, std::uint64_t n);

// ---- SHA-256 -------------------------------------------------------------------------------
// Checks the batch like sha256_cpu. Messages longer than a chunk (16 MiB) are hashed on the CPU
// meanwhile, as on CUDA: one message is a serial chain a CPU core runs far faster.
Status sha256(Device& device, const ops::MessageBatch& in, std::span<ops::Digest> out);
// Message i is data[offsets[i], offsets[i + 1]) with n + 1 absolute 64-bit offsets (not checked:
// clamped into the data); digests to out[0, 32 n). The data must fit one binding
// (maxStorageBufferRange).
Result<TimelinePoint> sha256_resident(Device& device, const Buffer& data, std::uint64_t data_bytes,
                                      const Buffer& offsets, std::uint64_t n, const Buffer& out);

// ---- Ed25519 ---------------------------------------------------------------------------------
// Which integer arithmetic the kernel uses: 64-bit (shaderInt64) where the device has it, else
// 32-bit word pairs; or one of them by force (tests run both).
enum class Arithmetic : std::uint8_t { automatic, int64, int32 };
// Checks the batch like ed25519_verify_cpu. A message too large for one binding of the device is
// verified on the CPU (libsodium).
Status ed25519_verify(Device& device, const ops::VerifyBatch& batch, std::span<ops::Verdict> out,
                      Arithmetic arithmetic = Arithmetic::automatic);

// ---- Image pipeline --------------------------------------------------------------------------
// gray -> Gaussian blur -> Sobel with OpenCV's results; `out` holds output_shape(p, in).bytes().
// One fused kernel for gray outputs whose tile fits the device's shared memory, in stripes of
// rows; separable passes over the whole image otherwise. Needs storageBuffer8BitAccess.
Status image_run(Device& device, const image::Pipeline& p, image::ImageView in, std::span<std::uint8_t> out);
// Output rows [y0, y1) of `plan` over the whole input image `in` into the whole output image
// `out` (each stripe uploads the halo rows it reads): what the scheduler's image rows run.
Status image_rows(Device& device, const image::detail::Plan& plan, const std::uint8_t* in, std::uint8_t* out, int y0,
                  int y1);
// Device-resident: `in` holds an image of `shape`, `out` the result. A pipeline the fused kernel
// does not take needs scratch buffers and its taps on the device; that case waits for its work
// before returning (the point it returns is then already reached).
Result<TimelinePoint> image_run_resident(Device& device, const image::Pipeline& p, const image::Shape& shape,
                                         const Buffer& in, const Buffer& out);

// ---- map -> filter -> reduce ---------------------------------------------------------------
// The stages are GLSL expressions: `map` of the element x, `filter` (a bool) of the mapped value
// y, both of the element type (float, int or uint). The identity and the benchmark's "square,
// keep below 0.25" on floats are built in; any other pair is compiled at run time (glslang,
// cached), and a mistake in it is a compile_error naming "map" or "filter" and the line.
struct ReduceSpec {
  std::string map = "x";
  std::string filter = "true";
};
ReduceSpec square_below_quarter();  // {"x * x", "y < 0.25"}

// Sum, count, min and max of the elements that survive the filter, in one pass. Integer sums
// wrap like the element type; float sums are exact to rounding but not in the CPU's order (they
// differ from a sequential loop in the last bits). min and max are empty when nothing survives;
// a surviving NaN makes sum, min and max NaN.
template <class T>
struct Reduced {
  T sum{};
  std::uint64_t count = 0;
  std::optional<T> min, max;
};

template <class T>
Result<Reduced<T>> reduce(Device& device, const ReduceSpec& spec, std::span<const T> data);
// `data` on the device holding n elements (a binding holds at most maxStorageBufferRange bytes;
// larger n goes in several dispatches).
template <class T>
Result<Reduced<T>> reduce_resident(Device& device, const ReduceSpec& spec, const Buffer& data, std::uint64_t n);

}  // namespace hetex::vulkan
