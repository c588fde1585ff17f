// SPDX-License-Identifier: MIT
#include "vulkan/recording.hpp"

#include <vector>

#include "vulkan/kernel.hpp"
#include "vulkan/memory.hpp"

namespace hetex::vulkan {
namespace {

struct Scope {
  VkPipelineStageFlags stage;
  VkAccessFlags access;
};
Scope source_scope(Access a) {
  switch (a) {
    case Access::transfer: return {VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT};
    case Access::compute: return {VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT};
    default: return {VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_WRITE_BIT};
  }
}
Scope destination_scope(Access a) {
  switch (a) {
    case Access::transfer:
      return {VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    case Access::compute:
      return {VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    default: return {VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT};
  }
}

}  // namespace

Result<Recording> Recording::begin(Device& device, QueueRole role) {
  Recording r;
  r.device_ = &device;
  r.queue_ = &device.queue(role);
  r.ctx_ = HETEX_TRY(device.acquire_context(r.queue_->family()));
  auto bi = vk_struct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  HETEX_TRY_VOID(device.check(vkBeginCommandBuffer(r.ctx_->cb, &bi), "vkBeginCommandBuffer"));
  return r;
}

Recording::~Recording() {
  if (ctx_ && device_) device_->recycle(std::move(ctx_));
}

void Recording::copy(const Buffer& src, std::uint64_t so, const Buffer& dst, std::uint64_t dso, std::uint64_t bytes) {
  if (bytes == 0) return;
  VkBufferCopy c{so, dso, bytes};
  vkCmdCopyBuffer(ctx_->cb, src.handle(), dst.handle(), 1, &c);
}

void Recording::fill(const Buffer& dst, std::uint64_t offset, std::uint64_t bytes, std::uint32_t word) {
  if (bytes == 0) return;
  vkCmdFillBuffer(ctx_->cb, dst.handle(), offset, bytes, word);
}

void Recording::barrier(Access from, Access to) {
  const Scope s = source_scope(from), d = destination_scope(to);
  auto mb = vk_struct<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  mb.srcAccessMask = s.access;
  mb.dstAccessMask = d.access;
  vkCmdPipelineBarrier(ctx_->cb, s.stage, d.stage, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

Result<VkDescriptorSet> Recording::allocate_set(VkDescriptorSetLayout layout) {
  auto ai = vk_struct<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  if (!ctx_->descriptors.empty()) {
    ai.descriptorPool = ctx_->descriptors.back().get();
    const VkResult r = vkAllocateDescriptorSets(device_->handle(), &ai, &set);
    if (r == VK_SUCCESS) return set;
    if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
      return device_->fail(r, "vkAllocateDescriptorSets");
  }
  // A new pool for the next few dispatches of this command buffer.
  constexpr std::uint32_t kSets = 16, kBuffersPerSet = 8;
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSets * kBuffersPerSet};
  auto pci = vk_struct<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
  pci.maxSets = kSets;
  pci.poolSizeCount = 1;
  pci.pPoolSizes = &size;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  HETEX_TRY_VOID(
      device_->check(vkCreateDescriptorPool(device_->handle(), &pci, nullptr, &pool), "vkCreateDescriptorPool"));
  ctx_->descriptors.emplace_back(device_->handle(), pool);
  ai.descriptorPool = pool;
  HETEX_TRY_VOID(device_->check(vkAllocateDescriptorSets(device_->handle(), &ai, &set), "vkAllocateDescriptorSets"));
  return set;
}

Status Recording::dispatch(const Kernel& kernel, std::span<const Binding> bindings, const void* push,
                           std::size_t push_bytes, std::uint32_t x, std::uint32_t y, std::uint32_t z) {
  const std::string what = "dispatching kernel '" + kernel.name() + "'";
  if (bindings.size() != kernel.buffers())
    return Error(Errc::invalid_argument, what + " with " + std::to_string(bindings.size()) + " buffers; it binds " +
                                             std::to_string(kernel.buffers()));
  if (push_bytes != kernel.push_bytes())
    return Error(Errc::invalid_argument, what + " with " + std::to_string(push_bytes) +
                                             " bytes of push constants; it takes " +
                                             std::to_string(kernel.push_bytes()));
  const auto& info = device_->info();
  if (x > info.max_workgroup_count[0] || y > info.max_workgroup_count[1] || z > info.max_workgroup_count[2])
    return Error(Errc::invalid_argument, what + ": " + std::to_string(x) + " x " + std::to_string(y) + " x " +
                                             std::to_string(z) + " workgroups exceed " + device_->name() + "'s limits");
  std::vector<VkDescriptorBufferInfo> infos;
  infos.reserve(bindings.size());
  for (const Binding& b : bindings) {
    if (!b.buffer || !*b.buffer) return Error(Errc::invalid_argument, what + " with an empty buffer");
    if (&b.buffer->device() != device_) return Error(Errc::invalid_argument, what + " with a buffer of another device");
    const std::uint64_t cap = b.buffer->capacity();
    if (b.offset >= cap || b.offset % info.min_storage_offset_alignment != 0)
      return Error(Errc::invalid_argument, what + ": binding offset " + std::to_string(b.offset) +
                                               " is past the buffer or not a multiple of " +
                                               std::to_string(info.min_storage_offset_alignment));
    std::uint64_t range = b.bytes == Binding::kWhole ? cap - b.offset : b.bytes;
    if (b.bytes == Binding::kWhole) range = std::min<std::uint64_t>(range, info.max_storage_buffer_range / 16 * 16);
    if (range == 0 || range > cap - b.offset || range > info.max_storage_buffer_range)
      return Error(Errc::invalid_argument, what + ": a binding of " + std::to_string(range) + " bytes at " +
                                               std::to_string(b.offset) + " does not fit the buffer or " +
                                               device_->name() + "'s largest binding (" +
                                               std::to_string(info.max_storage_buffer_range) + " bytes)");
    infos.push_back({b.buffer->handle(), b.offset, range});
  }
  VkDescriptorSet set = HETEX_TRY(allocate_set(kernel.set_layout()));
  std::vector<VkWriteDescriptorSet> writes(infos.size());
  for (std::uint32_t i = 0; i < writes.size(); ++i) {
    writes[i] = vk_struct<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(device_->handle(), static_cast<std::uint32_t>(writes.size()), writes.data(), 0, nullptr);
  VkCommandBuffer cb = ctx_->cb;
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.pipeline());
  if (!writes.empty())
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout(), 0, 1, &set, 0, nullptr);
  if (push_bytes)
    vkCmdPushConstants(cb, kernel.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, static_cast<std::uint32_t>(push_bytes),
                       push);
  if (x && y && z) vkCmdDispatch(cb, x, y, z);
  return {};
}

Result<TimelinePoint> Recording::submit(std::span<const TimelinePoint> waits) {
  std::unique_ptr<CommandContext> ctx = std::move(ctx_);
  HETEX_TRY_VOID(device_->check(vkEndCommandBuffer(ctx->cb), "vkEndCommandBuffer"));
  auto point = queue_->submit(ctx->cb, waits);
  if (point) ctx->done = *point;
  device_->recycle(std::move(ctx));
  return point;
}

}  // namespace hetex::vulkan
