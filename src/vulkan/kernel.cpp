// SPDX-License-Identifier: MIT
#include "vulkan/kernel.hpp"

#include <vector>

#include "vulkan/device.hpp"
#include "vulkan/error.hpp"

namespace hetex::vulkan {

std::string KernelSpec::key() const {
  std::string k = name;
  // Appended piece by piece: g++ 12 warns (-Wrestrict, a false positive) on "," + std::string.
  for (std::uint32_t c : constants) {
    k += ',';
    k += std::to_string(c);
  }
  return k;
}

Result<std::shared_ptr<Kernel>> Kernel::create(std::shared_ptr<Device> device, const KernelSpec& spec) {
  if (!device) return Error(Errc::invalid_argument, "vulkan::Kernel::create without a device");
  std::shared_ptr<Kernel> k(new Kernel());
  HETEX_TRY_VOID(build(*k, *device, spec));
  k->keep_ = std::move(device);
  return k;
}

Result<std::unique_ptr<Kernel>> Kernel::create_owned(Device& device, const KernelSpec& spec) {
  std::unique_ptr<Kernel> k(new Kernel());
  HETEX_TRY_VOID(build(*k, device, spec));
  return k;
}

Status Kernel::build(Kernel& k, Device& dev, const KernelSpec& spec) {
  HETEX_TRY_VOID(dev.check_healthy());
  const std::string what = "kernel '" + spec.name + "'";
  // What vkCreateShaderModule would otherwise take on trust: the size and the SPIR-V magic.
  if (spec.spirv.size() < 5 || spec.spirv[0] != 0x07230203u)
    return Error(Errc::invalid_argument, what + " is not SPIR-V (no magic number 0x07230203)");
  const auto& info = dev.info();
  if (spec.push_bytes > info.max_push_constants)
    return Error(Errc::invalid_argument, what + " takes " + std::to_string(spec.push_bytes) +
                                             " bytes of push constants; " + dev.name() + " allows " +
                                             std::to_string(info.max_push_constants));
  if (spec.buffers > info.max_storage_buffers)
    return Error(Errc::invalid_argument, what + " binds " + std::to_string(spec.buffers) + " storage buffers; " +
                                             dev.name() + " allows " + std::to_string(info.max_storage_buffers));
  if (!spec.constants.empty() && (spec.constants[0] == 0 || spec.constants[0] > info.max_workgroup_size[0] ||
                                  spec.constants[0] > info.max_workgroup_invocations))
    return Error(Errc::invalid_argument, what + ": workgroup size " + std::to_string(spec.constants[0]) +
                                             " is outside what " + dev.name() + " allows");
  k.name_ = spec.name;
  k.buffers_ = spec.buffers;
  k.push_bytes_ = spec.push_bytes;
  const VkDevice d = dev.handle();

  std::vector<VkDescriptorSetLayoutBinding> bindings(spec.buffers);
  for (std::uint32_t i = 0; i < spec.buffers; ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  auto dci = vk_struct<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  dci.bindingCount = spec.buffers;
  dci.pBindings = bindings.data();
  VkDescriptorSetLayout dsl = VK_NULL_HANDLE;
  HETEX_TRY_VOID(
      dev.check(vkCreateDescriptorSetLayout(d, &dci, nullptr, &dsl), "vkCreateDescriptorSetLayout for " + what));
  k.set_layout_ = UniqueDescriptorSetLayout(d, dsl);

  VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, spec.push_bytes};
  auto lci = vk_struct<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  lci.setLayoutCount = 1;
  lci.pSetLayouts = &dsl;
  lci.pushConstantRangeCount = spec.push_bytes ? 1 : 0;
  lci.pPushConstantRanges = &pcr;
  VkPipelineLayout pl = VK_NULL_HANDLE;
  HETEX_TRY_VOID(dev.check(vkCreatePipelineLayout(d, &lci, nullptr, &pl), "vkCreatePipelineLayout for " + what));
  k.layout_ = UniquePipelineLayout(d, pl);

  auto sci = vk_struct<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  sci.codeSize = spec.spirv.size() * sizeof(std::uint32_t);
  sci.pCode = spec.spirv.data();
  VkShaderModule sm = VK_NULL_HANDLE;
  HETEX_TRY_VOID(dev.check(vkCreateShaderModule(d, &sci, nullptr, &sm), "vkCreateShaderModule for " + what));
  UniqueShaderModule module(d, sm);  // not needed once the pipeline exists

  std::vector<VkSpecializationMapEntry> entries(spec.constants.size());
  for (std::uint32_t i = 0; i < entries.size(); ++i) entries[i] = {i, i * 4u, 4};
  VkSpecializationInfo si{};
  si.mapEntryCount = static_cast<std::uint32_t>(entries.size());
  si.pMapEntries = entries.data();
  si.dataSize = spec.constants.size() * 4;
  si.pData = spec.constants.data();

  auto pci = vk_struct<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  pci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  pci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  pci.stage.module = sm;
  pci.stage.pName = "main";
  pci.stage.pSpecializationInfo = entries.empty() ? nullptr : &si;
  pci.layout = pl;
  VkPipeline p = VK_NULL_HANDLE;
  HETEX_TRY_VOID(dev.check(vkCreateComputePipelines(d, VK_NULL_HANDLE, 1, &pci, nullptr, &p),
                           "vkCreateComputePipelines for " + what));
  k.pipeline_ = UniquePipeline(d, p);
  return {};
}

}  // namespace hetex::vulkan
