// SPDX-License-Identifier: MIT
#include "interrupt.hpp"

#include <signal.h>
#include <unistd.h>

namespace hetex::cli {
namespace {

std::atomic<bool> requested{false};
volatile sig_atomic_t signal_number = 0;

extern "C" void on_signal(int sig) {
  if (requested.load()) _exit(128 + sig);  // the second signal: the user means it
  signal_number = sig;
  requested.store(true);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>& interrupt_flag() { return requested; }

int interrupted_status() { return 128 + (signal_number ? int(signal_number) : SIGINT); }

}  // namespace hetex::cli
