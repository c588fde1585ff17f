// SPDX-License-Identifier: MIT
#include "vulkan/memory.hpp"

#include <utility>

#include "vulkan/error.hpp"

namespace hetex::vulkan {

Result<Buffer> Buffer::create(std::shared_ptr<Device> device, std::uint64_t bytes, MemoryUse use) {
  if (!device) return Error(Errc::invalid_argument, "vulkan::Buffer::create without a device");
  Buffer b = HETEX_TRY(make(*device, bytes, use));
  b.keep_ = std::move(device);
  return b;
}

Result<Buffer> Buffer::create_owned(Device& device, std::uint64_t bytes, MemoryUse use) {
  return make(device, bytes, use);
}

Result<Buffer> Buffer::make(Device& dev, std::uint64_t bytes, MemoryUse use) {
  HETEX_TRY_VOID(dev.check_healthy());
  constexpr std::uint64_t kRound = 256;
  if (bytes > ~std::uint64_t(0) - kRound)
    return Error(Errc::out_of_memory, "a buffer of " + std::to_string(bytes) + " bytes cannot exist");
  Buffer b;
  b.device_ = &dev;
  b.use_ = use;
  b.size_ = bytes;
  b.capacity_ = (std::max<std::uint64_t>(bytes, 1) + kRound - 1) / kRound * kRound;
  const std::string what = "allocating a " + std::string(to_string(use)) + " buffer";
  const auto& info = dev.info();
  if (info.max_allocation_bytes && b.capacity_ > info.max_allocation_bytes)
    return Error(Errc::out_of_memory, what + " of " + std::to_string(bytes) + " bytes on " + dev.name() +
                                          ": one allocation may hold at most " +
                                          std::to_string(info.max_allocation_bytes) + " bytes");

  auto bci = vk_struct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  bci.size = b.capacity_;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  const auto families = dev.families();
  if (dev.separate_transfer()) {
    bci.sharingMode = VK_SHARING_MODE_CONCURRENT;
    bci.queueFamilyIndexCount = static_cast<std::uint32_t>(families.size());
    bci.pQueueFamilyIndices = families.data();
  } else {
    bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  }
  VkBuffer buf = VK_NULL_HANDLE;
  HETEX_TRY_VOID(dev.check(vkCreateBuffer(dev.handle(), &bci, nullptr, &buf), "vkCreateBuffer"));
  b.buffer_ = UniqueBuffer(dev.handle(), buf);

  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(dev.handle(), buf, &req);
  const MemoryType type = HETEX_TRY(dev.memory_type(use, req.memoryTypeBits));
  HETEX_TRY_VOID(dev.reserve_heap(type.heap, req.size, what));
  b.heap_ = type.heap;
  b.reserved_ = req.size;
  b.coherent_ = type.coherent;

  auto ai = vk_struct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = type.index;
  VkDeviceMemory mem = VK_NULL_HANDLE;
  if (VkResult r = vkAllocateMemory(dev.handle(), &ai, nullptr, &mem); r != VK_SUCCESS)
    return dev.fail(r, what + " of " + std::to_string(bytes) + " bytes (vkAllocateMemory)");
  b.memory_ = UniqueMemory(dev.handle(), mem);
  HETEX_TRY_VOID(dev.check(vkBindBufferMemory(dev.handle(), buf, mem, 0), "vkBindBufferMemory"));
  if (use != MemoryUse::device) {
    if (!type.host_visible) return Error(Errc::internal, "a host buffer got memory the host cannot map");
    void* p = nullptr;
    HETEX_TRY_VOID(dev.check(vkMapMemory(dev.handle(), mem, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory"));
    b.mapped_ = static_cast<std::uint8_t*>(p);
  }
  return b;
}

Buffer::Buffer(Buffer&& o) noexcept
    : keep_(std::move(o.keep_)),
      device_(std::exchange(o.device_, nullptr)),
      memory_(std::move(o.memory_)),
      buffer_(std::move(o.buffer_)),
      mapped_(std::exchange(o.mapped_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      reserved_(std::exchange(o.reserved_, 0)),
      heap_(o.heap_),
      use_(o.use_),
      coherent_(o.coherent_) {}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    keep_ = std::move(o.keep_);
    device_ = std::exchange(o.device_, nullptr);
    memory_ = std::move(o.memory_);
    buffer_ = std::move(o.buffer_);
    mapped_ = std::exchange(o.mapped_, nullptr);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    reserved_ = std::exchange(o.reserved_, 0);
    heap_ = o.heap_;
    use_ = o.use_;
    coherent_ = o.coherent_;
  }
  return *this;
}

Buffer::~Buffer() { release(); }

void Buffer::release() noexcept {
  buffer_.reset();
  memory_.reset();  // unmaps
  mapped_ = nullptr;
  if (device_ && reserved_) device_->release_heap(heap_, reserved_);
  reserved_ = 0;
  keep_.reset();
}

Status Buffer::flush(std::uint64_t, std::uint64_t) const {
  if (coherent_ || !mapped_) return {};
  auto r = vk_struct<VkMappedMemoryRange>(VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE);
  r.memory = memory_.get();
  r.offset = 0;
  r.size = VK_WHOLE_SIZE;
  return device_->check(vkFlushMappedMemoryRanges(device_->handle(), 1, &r), "vkFlushMappedMemoryRanges");
}

Status Buffer::invalidate(std::uint64_t, std::uint64_t) const {
  if (coherent_ || !mapped_) return {};
  auto r = vk_struct<VkMappedMemoryRange>(VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE);
  r.memory = memory_.get();
  r.offset = 0;
  r.size = VK_WHOLE_SIZE;
  return device_->check(vkInvalidateMappedMemoryRanges(device_->handle(), 1, &r), "vkInvalidateMappedMemoryRanges");
}

}  // namespace hetex::vulkan
