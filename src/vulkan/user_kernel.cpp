// SPDX-License-Identifier: MIT
// A user's kernel on a lane's Vulkan device (hetex/exec/vulkan_kernel.hpp): the inputs staged in
// one upload buffer, one device buffer per binding, the outputs back through one readback buffer,
// all in one submission.
#include <cstring>
#include <functional>

#include "hetex/exec/vulkan_kernel.hpp"
#include "vulkan/backend.hpp"
#include "vulkan/compiler.hpp"
#include "vulkan/kernel.hpp"

namespace hetex::vulkan {
namespace {

Status run_user_kernel(GpuLane& lane, const VulkanKernel& kernel, std::span<const VulkanBinding> bindings,
                       std::span<const std::byte> push, std::uint32_t groups) {
  const std::string what = "kernel '" + kernel.name + "' on " + lane.device().id().to_string();
  Device* dev = HETEX_TRY(device_of(lane.device()));
  if (bindings.size() != kernel.buffers)
    return Error(Errc::invalid_argument, what + ": " + std::to_string(bindings.size()) + " bindings for " +
                                             std::to_string(kernel.buffers) + " buffers");
  if (push.size() != kernel.push_bytes)
    return Error(Errc::invalid_argument, what + ": " + std::to_string(push.size()) + " bytes of push constants for " +
                                             std::to_string(kernel.push_bytes));
  if (kernel.workgroup_size == 0 || kernel.workgroup_size > dev->info().max_workgroup_invocations ||
      kernel.workgroup_size > dev->info().max_workgroup_size[0])
    return Error(Errc::invalid_argument, what + ": a workgroup of " + std::to_string(kernel.workgroup_size) +
                                             " invocations is more than the device allows (" +
                                             std::to_string(dev->info().max_workgroup_invocations) + ")");
  std::shared_ptr<const Spirv> compiled;
  std::span<const std::uint32_t> code = kernel.spirv;
  if (!kernel.glsl.empty()) {
    GlslOptions o;
    o.file_name = kernel.name + ".comp";
    auto c = compile_glsl(kernel.glsl, o);
    if (!c) return std::move(c).error().with_context(what);
    compiled = *c;
    code = *compiled;
  }
  if (code.empty()) return Error(Errc::invalid_argument, what + " has neither GLSL nor SPIR-V");
  // The device caches kernels by name: the code's hash in it keeps two kernels of one name apart.
  const std::string_view words(reinterpret_cast<const char*>(code.data()), code.size_bytes());
  KernelSpec spec;
  spec.name = "user:" + kernel.name + ":" + std::to_string(std::hash<std::string_view>{}(words));
  spec.spirv = code;
  spec.buffers = kernel.buffers;
  spec.push_bytes = kernel.push_bytes;
  spec.constants = {kernel.workgroup_size};
  const Kernel* k = HETEX_TRY(dev->kernel(spec));

  const auto shared = dev->shared_from_this();
  std::uint64_t up_bytes = 0, down_bytes = 0;
  for (const auto& b : bindings) {
    up_bytes += b.in ? b.bytes : 0;
    down_bytes += b.out ? b.bytes : 0;
  }
  std::vector<Buffer> buffers;
  buffers.reserve(bindings.size());
  for (const auto& b : bindings)
    buffers.push_back(HETEX_TRY(Buffer::create(shared, std::max<std::size_t>(b.bytes, 4), MemoryUse::device)));
  Buffer up, down;
  if (up_bytes) up = HETEX_TRY(Buffer::create(shared, up_bytes, MemoryUse::upload));
  if (down_bytes) down = HETEX_TRY(Buffer::create(shared, down_bytes, MemoryUse::readback));

  auto rec = HETEX_TRY(Recording::begin(*dev, QueueRole::compute));
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const auto& b = bindings[i];
    if (b.in) {
      std::memcpy(up.host().data() + at, b.in, b.bytes);
      rec.copy(up, at, buffers[i], 0, b.bytes);
      at += b.bytes;
    } else {
      rec.fill(buffers[i], 0, buffers[i].capacity(), 0);
    }
  }
  if (up_bytes) HETEX_TRY_VOID(up.flush(0, up_bytes));
  rec.barrier(Access::transfer, Access::compute);
  std::vector<Binding> binds;
  for (const auto& b : buffers) binds.push_back({&b, 0, Binding::kWhole});
  HETEX_TRY_VOID(rec.dispatch(*k, binds, push.data(), push.size(), groups));
  rec.barrier(Access::compute, Access::transfer);
  at = 0;
  for (std::size_t i = 0; i < bindings.size(); ++i)
    if (bindings[i].out) {
      rec.copy(buffers[i], 0, down, at, bindings[i].bytes);
      at += bindings[i].bytes;
    }
  rec.barrier(Access::transfer, Access::host);
  const TimelinePoint done = HETEX_TRY(rec.submit());
  HETEX_TRY_VOID(dev->wait(done));
  if (down_bytes) HETEX_TRY_VOID(down.invalidate(0, down_bytes));
  at = 0;
  for (const auto& b : bindings)
    if (b.out) {
      std::memcpy(b.out, down.host().data() + at, b.bytes);
      at += b.bytes;
    }
  return {};
}

}  // namespace
}  // namespace hetex::vulkan

namespace hetex {

Status run_vulkan_kernel(GpuLane& lane, const VulkanKernel& kernel, std::span<const VulkanBinding> bindings,
                         std::span<const std::byte> push, std::uint32_t groups) {
  return vulkan::run_user_kernel(lane, kernel, bindings, push, groups);
}

}  // namespace hetex
