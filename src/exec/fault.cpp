// SPDX-License-Identifier: MIT
#include "exec/fault_injector.hpp"

#include <charconv>
#include <cstdlib>
#include <sstream>

namespace hetex {
namespace {

Result<double> parse_probability(std::string_view key, std::string_view v) {
  double p = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
  if (ec != std::errc{} || ptr != v.data() + v.size() || !(p >= 0 && p <= 1))
    return Error(Errc::invalid_argument,
                 "fault plan: " + std::string(key) + "=" + std::string(v) + " is not a probability between 0 and 1");
  return p;
}

Result<std::chrono::microseconds> parse_duration(std::string_view v) {
  double x = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  const std::string_view unit(ptr, v.data() + v.size() - ptr);
  if (ec != std::errc{} || !(x >= 0))
    return Error(Errc::invalid_argument, "fault plan: bad delay '" + std::string(v) + "'");
  double us = 0;
  if (unit == "us")
    us = x;
  else if (unit == "ms")
    us = x * 1e3;
  else if (unit == "s")
    us = x * 1e6;
  else
    return Error(Errc::invalid_argument, "fault plan: delay '" + std::string(v) + "' needs a unit: us, ms or s");
  // A day is longer than any fault worth injecting, and keeps the conversion below defined.
  if (us > 86400e6) return Error(Errc::invalid_argument, "fault plan: delay '" + std::string(v) + "' is over a day");
  return std::chrono::microseconds(static_cast<long long>(us));
}

}  // namespace

Result<FaultPlan> FaultPlan::parse(std::string_view spec) {
  FaultPlan plan;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return Error(Errc::invalid_argument, "fault plan: '" + std::string(item) + "' is not key=value");
    const auto key = item.substr(0, eq);
    auto value = item.substr(eq + 1);
    if (key == "seed") {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), plan.seed);
      if (ec != std::errc{} || ptr != value.data() + value.size())
        return Error(Errc::invalid_argument, "fault plan: seed=" + std::string(value) + " is not a number");
      continue;
    }
    if (key == "slow") {
      const auto colon = value.find(':');
      if (colon != std::string_view::npos) {
        plan.slow_delay = HETEX_TRY(parse_duration(value.substr(colon + 1)));
        value = value.substr(0, colon);
      }
    }
    const double p = HETEX_TRY(parse_probability(key, value));
    if (key == "oom")
      plan.out_of_memory = p;
    else if (key == "kernel")
      plan.kernel_fault = p;
    else if (key == "lost")
      plan.device_lost = p;
    else if (key == "slow")
      plan.slow = p;
    else
      return Error(Errc::invalid_argument,
                   "fault plan: unknown key '" + std::string(key) + "' (known: oom, kernel, lost, slow, seed)");
  }
  if (plan.out_of_memory + plan.kernel_fault + plan.device_lost > 1)
    return Error(Errc::invalid_argument, "fault plan: oom + kernel + lost probabilities exceed 1");
  return plan;
}

Result<FaultPlan> FaultPlan::from_env() {
  const char* s = std::getenv("HETEX_FAULTS");
  if (!s || !*s) return FaultPlan{};
  auto p = parse(s);
  if (!p) return std::move(p).error().with_context("HETEX_FAULTS");
  return p;
}

std::string FaultPlan::to_string() const {
  std::ostringstream os;
  os << "oom=" << out_of_memory << ",kernel=" << kernel_fault << ",lost=" << device_lost << ",slow=" << slow << ":"
     << slow_delay.count() << "us";
  if (seed) os << ",seed=" << seed;
  return os.str();
}

FaultInjector::FaultInjector(FaultPlan plan)
    : plan_(plan),
      rng_(plan.seed ? plan.seed
                     : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

FaultInjector::Draw FaultInjector::draw() {
  Draw d;
  if (plan_.empty()) return d;
  std::lock_guard lock(m_);
  std::uniform_real_distribution<double> u(0, 1);
  const double x = u(rng_);
  if (x < plan_.out_of_memory)
    d.fault = Fault::out_of_memory;
  else if (x < plan_.out_of_memory + plan_.kernel_fault)
    d.fault = Fault::kernel_fault;
  else if (x < plan_.out_of_memory + plan_.kernel_fault + plan_.device_lost)
    d.fault = Fault::device_lost;
  if (u(rng_) < plan_.slow) d.delay = plan_.slow_delay;
  return d;
}

}  // namespace hetex
