// SPDX-License-Identifier: MIT
// HETEX_FAULTS: a fault plan parses to sane numbers or to an error, and what it prints parses.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "exec/fault_injector.hpp"
#include "hetex/exec/fault.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto plan = hetex::FaultPlan::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!plan) return 0;
  const bool sane = plan->out_of_memory >= 0 && plan->kernel_fault >= 0 && plan->device_lost >= 0 && plan->slow >= 0 &&
                    plan->slow <= 1 && plan->out_of_memory + plan->kernel_fault + plan->device_lost <= 1 &&
                    plan->slow_delay.count() >= 0;
  auto again = hetex::FaultPlan::parse(plan->to_string());
  if (!sane || !again) {
    std::fprintf(stderr, "fuzz_faults: '%s' %s\n", plan->to_string().c_str(),
                 sane ? "does not parse again" : "holds out-of-range numbers");
    std::abort();
  }
  hetex::FaultInjector injector(*plan);
  for (int i = 0; i < 4; ++i) (void)injector.draw();
  return 0;
}
