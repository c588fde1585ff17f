// SPDX-License-Identifier: MIT
#include "vulkan/instance.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

#include "vulkan/error.hpp"
#include "vulkan/handle.hpp"
#include "hetex/core/hex.hpp"

namespace hetex::vulkan {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool layer_present(const char* name) {
  std::uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  if (vkEnumerateInstanceLayerProperties(&n, layers.data()) < 0) return false;
  for (std::uint32_t i = 0; i < n; ++i)
    if (std::strcmp(layers[i].layerName, name) == 0) return true;
  return false;
}

bool instance_extension_present(const char* layer, const char* name) {
  std::uint32_t n = 0;
  if (vkEnumerateInstanceExtensionProperties(layer, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> exts(n);
  if (vkEnumerateInstanceExtensionProperties(layer, &n, exts.data()) < 0) return false;
  for (std::uint32_t i = 0; i < n; ++i)
    if (std::strcmp(exts[i].extensionName, name) == 0) return true;
  return false;
}

bool device_extension_present(VkPhysicalDevice pd, const char* name) {
  std::uint32_t n = 0;
  if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> exts(n);
  if (vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data()) < 0) return false;
  for (std::uint32_t i = 0; i < n; ++i)
    if (std::strcmp(exts[i].extensionName, name) == 0) return true;
  return false;
}

DeviceType device_type(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return DeviceType::discrete;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return DeviceType::integrated;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return DeviceType::virtual_gpu;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return DeviceType::cpu;
    default: return DeviceType::other;
  }
}

}  // namespace

PhysicalDeviceInfo describe_physical_device(VkPhysicalDevice pd, std::uint32_t index) {
  PhysicalDeviceInfo info;
  info.index = index;
  VkPhysicalDeviceProperties base{};
  vkGetPhysicalDeviceProperties(pd, &base);
  info.name = base.deviceName;
  info.vendor_id = base.vendorID;
  info.device_id = base.deviceID;
  info.vendor = vendor_name(base.vendorID);
  info.type = device_type(base.deviceType);
  info.api_version = base.apiVersion;
  const auto& l = base.limits;
  info.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    info.max_workgroup_size[i] = l.maxComputeWorkGroupSize[i];
    info.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
  }
  info.max_shared_memory = l.maxComputeSharedMemorySize;
  info.max_storage_buffer_range = l.maxStorageBufferRange;
  info.max_push_constants = l.maxPushConstantsSize;
  info.max_storage_buffers = l.maxPerStageDescriptorStorageBuffers;
  info.min_storage_offset_alignment = l.minStorageBufferOffsetAlignment;

  VkPhysicalDeviceMemoryProperties mem{};
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  for (std::uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
    const bool local = (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    info.heaps.push_back({mem.memoryHeaps[i].size, local});
    if (local && mem.memoryHeaps[i].size > info.device_local_bytes) info.device_local_bytes = mem.memoryHeaps[i].size;
  }

  std::uint32_t nfam = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nfam, nullptr);
  std::vector<VkQueueFamilyProperties> fams(nfam);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nfam, fams.data());
  std::optional<std::uint32_t> compute, compute_only;
  for (std::uint32_t f = 0; f < nfam; ++f) {
    const VkQueueFlags q = fams[f].queueFlags;
    if (fams[f].queueCount == 0) continue;
    if ((q & VK_QUEUE_COMPUTE_BIT) && !compute) compute = f;
    if ((q & VK_QUEUE_COMPUTE_BIT) && !(q & VK_QUEUE_GRAPHICS_BIT) && !compute_only) compute_only = f;
    if ((q & VK_QUEUE_TRANSFER_BIT) && !(q & (VK_QUEUE_COMPUTE_BIT | VK_QUEUE_GRAPHICS_BIT)) && !info.transfer_family) {
      info.transfer_family = f;
      info.transfer_queues = fams[f].queueCount;
    }
  }
  // A compute-only family where there is one: its queues do not share a scheduler with graphics.
  if (compute_only) compute = compute_only;
  if (compute) {
    info.compute_family = *compute;
    info.compute_queues = fams[*compute].queueCount;
  }

  const bool v12 = VK_API_VERSION_MAJOR(base.apiVersion) > 1 ||
                   (VK_API_VERSION_MAJOR(base.apiVersion) == 1 && VK_API_VERSION_MINOR(base.apiVersion) >= 2);
  char version[64];
  std::snprintf(version, sizeof version, "%u.%u", VK_API_VERSION_MAJOR(base.apiVersion),
                VK_API_VERSION_MINOR(base.apiVersion));
  info.driver = info.vendor;
  if (v12) {
    auto p11 = vk_struct<VkPhysicalDeviceVulkan11Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES);
    auto p12 = vk_struct<VkPhysicalDeviceVulkan12Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES);
    auto sm = vk_struct<VkPhysicalDeviceShaderSMBuiltinsPropertiesNV>(
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV);
    p11.pNext = &p12;
    if (device_extension_present(pd, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME)) p12.pNext = &sm;
    auto p2 = vk_struct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
    p2.pNext = &p11;
    vkGetPhysicalDeviceProperties2(pd, &p2);
    info.uuid = to_hex(std::span<const std::uint8_t>(p11.deviceUUID, VK_UUID_SIZE));
    info.subgroup_size = p11.subgroupSize;
    const bool in_compute = (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    info.subgroup_arithmetic = in_compute && (p11.subgroupSupportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    info.subgroup_ballot = in_compute && (p11.subgroupSupportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT);
    info.subgroup_shuffle = in_compute && (p11.subgroupSupportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
    info.max_allocation_bytes = p11.maxMemoryAllocationSize;
    info.multiprocessors = sm.shaderSMCount;
    info.driver = std::string(p12.driverName) + " " + p12.driverInfo;

    auto f12 = vk_struct<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
    auto f2 = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
    f2.pNext = &f12;
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    info.int64 = f2.features.shaderInt64;
    info.int16 = f2.features.shaderInt16;
    info.int8 = f12.shaderInt8;
    info.storage8 = f12.storageBuffer8BitAccess;
    info.timeline_semaphores = f12.timelineSemaphore;
  }

  if (!v12) {
    info.unusable_reason = std::string("Vulkan ") + version + " driver; hetex needs Vulkan 1.2";
  } else if (!compute) {
    info.unusable_reason = "no compute queue";
  } else if (!info.timeline_semaphores) {
    info.unusable_reason = "no timeline semaphores";
  } else {
    info.usable = true;
  }
  return info;
}

VKAPI_ATTR VkBool32 VKAPI_CALL Instance::on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                          VkDebugUtilsMessageTypeFlagsEXT,
                                                          const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                          void* user) {
  auto* sink = static_cast<Sink*>(user);
  ValidationMessage m;
  m.error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
  if (data && data->pMessageIdName) m.id = data->pMessageIdName;
  if (data && data->pMessage) m.text = data->pMessage;
  sink->count.fetch_add(1);
  if (sink->deliver) {
    sink->deliver(m);
  } else {
    std::fprintf(stderr, "hetex vulkan validation %s: %s\n", m.error ? "error" : "warning", m.text.c_str());
  }
  return VK_FALSE;  // the call goes on, as it would without the layer
}

Result<std::shared_ptr<Instance>> Instance::create(InstanceOptions options) {
  std::shared_ptr<Instance> inst(new Instance());
  std::vector<const char*> layers, extensions;
  if (options.validation) {
    if (!layer_present(kValidationLayer)) {
      inst->validation_note_ = std::string(kValidationLayer) + " is not installed (Debian: vulkan-validationlayers)";
    } else if (!instance_extension_present(kValidationLayer, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) &&
               !instance_extension_present(nullptr, VK_EXT_DEBUG_UTILS_EXTENSION_NAME)) {
      inst->validation_note_ = "VK_EXT_debug_utils is not available";
    } else {
      layers.push_back(kValidationLayer);
      extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
      inst->validation_ = true;
    }
  }

  auto app = vk_struct<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "hetex";
  app.pEngineName = "hetex";
  app.apiVersion = VK_API_VERSION_1_2;
  auto ci = vk_struct<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<std::uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
  ci.ppEnabledExtensionNames = extensions.data();

  // Messages of instance creation and destruction go through this chained messenger.
  auto mi = vk_struct<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
  const VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  auto features = vk_struct<VkValidationFeaturesEXT>(VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT);
  if (inst->validation_) {
    inst->sink_ = std::make_unique<Sink>();
    inst->sink_->deliver = std::move(options.on_message);
    mi.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
    mi.pfnUserCallback = &Instance::on_debug_message;
    mi.pUserData = inst->sink_.get();
    features.enabledValidationFeatureCount = 1;
    features.pEnabledValidationFeatures = enables;
    mi.pNext = &features;
    ci.pNext = &mi;
  }
  if (VkResult r = vkCreateInstance(&ci, nullptr, &inst->instance_); r != VK_SUCCESS) {
    inst->instance_ = VK_NULL_HANDLE;
    Error e = vk_error(r, "vkCreateInstance (Vulkan 1.2)");
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
      e = Error(Errc::unavailable, e.message() + ": no Vulkan 1.2 driver is installed");
    return e;
  }
  if (inst->validation_) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(inst->instance_, "vkCreateDebugUtilsMessengerEXT"));
    if (!create)
      return Error(Errc::unavailable, "vkCreateDebugUtilsMessengerEXT is missing although VK_EXT_debug_utils is on");
    mi.pNext = nullptr;
    HETEX_TRY_VOID(check(create(inst->instance_, &mi, nullptr, &inst->messenger_), "vkCreateDebugUtilsMessengerEXT"));
  }
  HETEX_TRY_VOID(inst->enumerate());
  return inst;
}

Status Instance::enumerate() {
  std::uint32_t n = 0;
  HETEX_TRY_VOID(check(vkEnumeratePhysicalDevices(instance_, &n, nullptr), "vkEnumeratePhysicalDevices"));
  physical_.resize(n);
  const VkResult r = vkEnumeratePhysicalDevices(instance_, &n, physical_.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) return vk_error(r, "vkEnumeratePhysicalDevices");
  physical_.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) infos_.push_back(describe_physical_device(physical_[i], i));
  return {};
}

Instance::~Instance() {
  if (messenger_ != VK_NULL_HANDLE) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance_, messenger_, nullptr);
  }
  if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

Result<std::shared_ptr<Instance>> Instance::process() {
  static std::mutex m;
  static std::shared_ptr<Instance>* made = nullptr;  // leaked: devices live for the process
  static std::optional<Error> failed;
  std::lock_guard lock(m);
  if (made) return *made;
  if (failed) return *failed;
  InstanceOptions o;
  const char* v = std::getenv("HETEX_VULKAN_VALIDATION");
  o.validation = v && std::strcmp(v, "1") == 0;
  auto r = create(std::move(o));
  if (!r) {
    failed = r.error();
    return std::move(r).error();
  }
  made = new std::shared_ptr<Instance>(std::move(*r));
  return *made;
}

}  // namespace hetex::vulkan
