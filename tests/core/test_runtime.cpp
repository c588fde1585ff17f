// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "hetex/core/runtime.hpp"

using namespace hetex;

TEST(DeviceId, ParsesAndPrints) {
  EXPECT_EQ(DeviceId::parse("cpu").value(), (DeviceId{DeviceKind::cpu, 0}));
  EXPECT_EQ(DeviceId::parse("cuda:3").value(), (DeviceId{DeviceKind::cuda, 3}));
  EXPECT_EQ(DeviceId::parse("gpu:1").value().to_string(), "cuda:1");
  for (const char* name : {"sim:2", "vulkan:0", "remote:17"})
    EXPECT_EQ(DeviceId::parse(name).value().to_string(), name);
  EXPECT_EQ(DeviceId::parse("sim:2").value(), DeviceId::sim(2));
  for (const char* bad : {"", "cuda", "cuda:", "cuda:-1", "cuda:1x", "tpu:0", "CPU"}) {
    auto r = DeviceId::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  }
}

TEST(DeviceId, OrdersTheCpuFirstThenByKindThenByIndex) {
  std::vector<DeviceId> ids{DeviceId::sim(0), DeviceId::cuda(10), DeviceId::cpu(), DeviceId::cuda(2)};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<DeviceId>{DeviceId::cpu(), DeviceId::cuda(2), DeviceId::cuda(10), DeviceId::sim(0)}));
  EXPECT_NE(DeviceId::cuda(0), DeviceId::sim(0));
  EXPECT_NE(std::hash<DeviceId>{}(DeviceId::cuda(0)), std::hash<DeviceId>{}(DeviceId::sim(0)));
}

TEST(Runtime, CpuIsAlwaysThere) {
  auto rt = Runtime::create({.devices = "cpu", .announce_cpu_only = false});
  ASSERT_TRUE(rt) << rt.error().describe();
  ASSERT_EQ(rt->devices().size(), 1u);
  EXPECT_TRUE(rt->cpu().is_cpu());
  EXPECT_FALSE(rt->has_gpu());
  EXPECT_FALSE(rt->gpu_unavailable_reason().empty());
  EXPECT_EQ(rt->select(SelectPolicy::most_free_memory).kind(), DeviceKind::cpu);
  EXPECT_EQ(rt->select("gpu").value().kind(), DeviceKind::cpu);
  EXPECT_EQ(rt->select("cpu").value().kind(), DeviceKind::cpu);
  auto missing = rt->select("cuda:0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::unavailable);
}

TEST(Runtime, CpuInfoIsFilledIn) {
  auto rt = Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value();
  const CpuInfo* c = rt.cpu().cpu_info();
  ASSERT_NE(c, nullptr);
  EXPECT_GE(c->logical_cores, 1u);
  EXPECT_FALSE(c->model.empty());
  EXPECT_NE(rt.cpu().describe().find("cpu ("), std::string::npos);
}

TEST(Runtime, BadDeviceListsAreClearErrors) {
  auto r = Runtime::create({.devices = "cpu,banana"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  EXPECT_NE(r.error().message().find("banana"), std::string::npos);
  auto empty = Runtime::create({.devices = " , "});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), Errc::invalid_argument);
  auto far = Runtime::create({.devices = "cuda:64"});
  ASSERT_FALSE(far);
  EXPECT_NE(far.error().message().find("cuda:64"), std::string::npos);
}

TEST(Runtime, EnvironmentRestrictsDevices) {
  ::setenv("HETEX_DEVICES", "cpu", 1);
  auto rt = Runtime::create({.announce_cpu_only = false});
  ::unsetenv("HETEX_DEVICES");
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->devices().size(), 1u);
  ::setenv("HETEX_DEVICES", "cuda:999", 1);
  auto bad = Runtime::create();
  ::unsetenv("HETEX_DEVICES");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("HETEX_DEVICES"), std::string::npos);
}

TEST(Runtime, VulkanDevicesAreAskedForByKindOrIndex) {
  auto far = Runtime::create({.devices = "cpu,vulkan:999", .announce_cpu_only = false});
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error().code(), Errc::invalid_argument);
  EXPECT_NE(far.error().message().find("vulkan:999"), std::string::npos) << far.error().message();
  // "vulkan": every hardware Vulkan device, else the software ones; none at all is unavailable.
  auto kind = Runtime::create({.devices = "cpu,vulkan", .announce_cpu_only = false});
  if (!kind) {
    EXPECT_EQ(kind.error().code(), Errc::unavailable) << kind.error().describe();
    return;
  }
  ASSERT_TRUE(kind->has_gpu());
  for (const auto& g : kind->gpus()) EXPECT_EQ(g.kind(), DeviceKind::vulkan);
}
