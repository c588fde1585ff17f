// SPDX-License-Identifier: MIT
#pragma once
// Ctrl-C (SIGINT) and SIGTERM: the first asks the running command to stop; it finishes or drops
// the item in hand (outputs are written whole or not at all), says how far it got, and exits
// with 128 + the signal number (130 for Ctrl-C). A second signal exits at once.
#include <atomic>

namespace hetex::cli {

// Installed once by main, before any command runs. Handlers are installed without SA_RESTART,
// so a read blocked on a terminal or a FIFO returns and sees the request.
void install_interrupt_handlers();
// Set by the first signal; pass it as InputOptions::stop.
const std::atomic<bool>& interrupt_flag();
inline bool interrupted() { return interrupt_flag().load(std::memory_order_relaxed); }
// 128 + the signal that asked to stop (130 for SIGINT).
int interrupted_status();

}  // namespace hetex::cli
