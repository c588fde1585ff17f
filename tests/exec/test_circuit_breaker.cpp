// SPDX-License-Identifier: MIT
// Device health: the circuit breaker, with a clock the test steps (no sleeps).
#include <gtest/gtest.h>

#include <vector>

#include "exec/circuit_breaker.hpp"

namespace hetex::detail {
namespace {

using namespace std::chrono_literals;
using Admit = CircuitBreaker::Admit;

struct Fixture {
  CircuitBreaker::Clock::time_point now{};
  std::vector<DeviceState> changes;
  CircuitBreaker breaker{{.backoff = 100ms, .max_backoff = 350ms},
                         [this] { return now; },
                         [this](DeviceState s) { changes.push_back(s); }};
};

TEST(CircuitBreaker, AHealthyDeviceTakesWorkAndAttempts) {
  Fixture f;
  EXPECT_EQ(f.breaker.state(), DeviceState::healthy);
  EXPECT_EQ(f.breaker.admit(true), Admit::yes);
  EXPECT_TRUE(f.breaker.may_attempt(false));
  f.breaker.success();
  EXPECT_TRUE(f.changes.empty());
}

TEST(CircuitBreaker, AFaultSuspendsUntilTheBackoffIsOverThenOneProbe) {
  Fixture f;
  f.breaker.fault();
  EXPECT_EQ(f.breaker.state(), DeviceState::suspended);
  EXPECT_FALSE(f.breaker.may_attempt(false));
  EXPECT_EQ(f.breaker.admit(true), Admit::no);
  f.now += 99ms;
  EXPECT_EQ(f.breaker.admit(true), Admit::no);
  f.now += 1ms;
  EXPECT_EQ(f.breaker.admit(false), Admit::no) << "a batch that already probes a device probes no other";
  EXPECT_EQ(f.breaker.admit(true), Admit::as_probe);
  EXPECT_EQ(f.breaker.state(), DeviceState::probing);
  EXPECT_EQ(f.breaker.admit(true), Admit::no) << "one probe at a time";
  EXPECT_TRUE(f.breaker.may_attempt(true));
  EXPECT_FALSE(f.breaker.may_attempt(false)) << "only the probe's attempts reach a probing device";
  f.breaker.success();
  EXPECT_EQ(f.breaker.state(), DeviceState::healthy);
  EXPECT_EQ(f.changes, (std::vector{DeviceState::suspended, DeviceState::probing, DeviceState::healthy}));
}

TEST(CircuitBreaker, EachFailedProbeDoublesTheBackoffUpToTheMaximum) {
  Fixture f;
  f.breaker.fault();  // 100 ms
  std::vector<std::chrono::milliseconds> backoffs;
  for (int i = 0; i < 4; ++i) {
    auto waited = 0ms;
    while (f.breaker.admit(true) != Admit::as_probe) {
      f.now += 10ms;
      waited += 10ms;
    }
    backoffs.push_back(waited);
    f.breaker.fault();  // the probe failed
  }
  EXPECT_EQ(backoffs, (std::vector<std::chrono::milliseconds>{100ms, 200ms, 350ms, 350ms}));
  // A success resets it: the next fault waits the first back-off again.
  f.now += 350ms;
  ASSERT_EQ(f.breaker.admit(true), Admit::as_probe);
  f.breaker.success();
  f.breaker.fault();
  f.now += 100ms;
  EXPECT_EQ(f.breaker.admit(true), Admit::as_probe);
}

TEST(CircuitBreaker, AnUnusedProbeMayBeOfferedAgainAtOnce) {
  Fixture f;
  f.breaker.fault();
  f.now += 100ms;
  ASSERT_EQ(f.breaker.admit(true), Admit::as_probe);
  f.breaker.release_probe();  // the policy sent the batch elsewhere
  EXPECT_EQ(f.breaker.state(), DeviceState::suspended);
  EXPECT_EQ(f.breaker.admit(true), Admit::as_probe) << "without waiting another back-off";
  f.breaker.success();
  f.breaker.release_probe();  // nothing to release once the probe succeeded
  EXPECT_EQ(f.breaker.state(), DeviceState::healthy);
}

TEST(CircuitBreaker, ARetiredDeviceNeverComesBack) {
  Fixture f;
  f.breaker.fault();
  f.breaker.retire();
  EXPECT_EQ(f.breaker.state(), DeviceState::retired);
  f.now += 1h;
  EXPECT_EQ(f.breaker.admit(true), Admit::no);
  EXPECT_FALSE(f.breaker.may_attempt(true));
  f.breaker.fault();
  f.breaker.success();
  f.breaker.release_probe();
  EXPECT_EQ(f.breaker.state(), DeviceState::retired);
  EXPECT_EQ(f.changes.back(), DeviceState::retired);
}

}  // namespace
}  // namespace hetex::detail
