// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <cstdlib>

#include "exec/fault_injector.hpp"

namespace hetex {
namespace {

TEST(FaultPlan, ParsesEveryKey) {
  auto p = FaultPlan::parse("oom=0.1,kernel=0.2,lost=0.05,slow=0.5:3ms,seed=7");
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_DOUBLE_EQ(p->out_of_memory, 0.1);
  EXPECT_DOUBLE_EQ(p->kernel_fault, 0.2);
  EXPECT_DOUBLE_EQ(p->device_lost, 0.05);
  EXPECT_DOUBLE_EQ(p->slow, 0.5);
  EXPECT_EQ(p->slow_delay, std::chrono::microseconds(3000));
  EXPECT_EQ(p->seed, 7u);
  EXPECT_TRUE(FaultPlan::parse("")->empty());
}

TEST(FaultPlan, RejectsNonsenseWithAClearMessage) {
  for (const char* bad :
       {"oom", "oom=2", "oom=-0.1", "oom=x", "boom=0.1", "slow=0.1:3", "slow=0.1:3h", "seed=x", "oom=0.6,kernel=0.6"}) {
    auto p = FaultPlan::parse(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code(), Errc::invalid_argument) << bad;
    EXPECT_NE(p.error().message().find("fault plan"), std::string::npos) << bad;
  }
}

// Found by fuzz_faults: a delay too large for microseconds in a long long was undefined behaviour.
TEST(FaultPlan, AnEnormousDelayIsAnErrorNotAnOverflow) {
  for (const char* bad : {"slow=0.1:3E50us", "slow=1:1e300s", "slow=0.5:100000s"}) {
    auto p = FaultPlan::parse(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_NE(p.error().message().find("is over a day"), std::string::npos) << p.error().message();
  }
  EXPECT_EQ(FaultPlan::parse("slow=0.5:86400s")->slow_delay, std::chrono::hours(24));
}

TEST(FaultPlan, FromEnvironmentNamesTheVariableOnError) {
  ::setenv("HETEX_FAULTS", "oom=lots", 1);
  auto p = FaultPlan::from_env();
  ::unsetenv("HETEX_FAULTS");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().describe().find("HETEX_FAULTS"), std::string::npos);
  EXPECT_TRUE(FaultPlan::from_env()->empty());
}

TEST(FaultInjector, DrawsAtTheRequestedRatesAndRepeatsWithASeed) {
  FaultPlan plan;
  plan.out_of_memory = 0.1;
  plan.kernel_fault = 0.2;
  plan.device_lost = 0.3;
  plan.slow = 0.5;
  plan.seed = 42;
  FaultInjector a(plan), b(plan);
  int counts[4] = {}, slow = 0;
  for (int i = 0; i < 20000; ++i) {
    auto x = a.draw();
    auto y = b.draw();
    ASSERT_EQ(x.fault, y.fault);
    ++counts[static_cast<int>(x.fault)];
    slow += x.delay.count() > 0;
  }
  EXPECT_NEAR(counts[1] / 20000.0, 0.1, 0.015);
  EXPECT_NEAR(counts[2] / 20000.0, 0.2, 0.015);
  EXPECT_NEAR(counts[3] / 20000.0, 0.3, 0.015);
  EXPECT_NEAR(slow / 20000.0, 0.5, 0.015);
  FaultInjector none;
  EXPECT_FALSE(none.active());
  EXPECT_EQ(none.draw().fault, FaultInjector::Fault::none);
}

}  // namespace
}  // namespace hetex
