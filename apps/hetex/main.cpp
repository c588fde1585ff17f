// SPDX-License-Identifier: MIT
#include <cstdio>
#include <exception>
#include <new>

#include "commands.hpp"
#include "interrupt.hpp"

int main(int argc, char** argv) {
  CLI::App app{"hetex: batch work on every CPU core and every NVIDIA GPU of this machine", "hetex"};
  app.set_version_flag("--version", std::string("hetex ") + HETEX_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Run 'hetex COMMAND --help' for a command's options and examples.\n"
      "Exit status:\n"
      "  0  success\n"
      "  1  some inputs failed (each named on stderr); the rest were processed\n"
      "  2  bad usage, or a failure before any input was processed (no device, port in use, ...)\n"
      "  130  interrupted by Ctrl-C (143: SIGTERM); outputs are whole or absent, never truncated\n"
      "Environment:\n"
      "  HETEX_DEVICES  restricts the devices used, e.g. cpu, cuda:1, cuda:0,cpu\n"
      "Examples:\n"
      "  hetex devices\n"
      "  hetex sha256 --device auto *.iso > SUMS\n"
      "  hetex verify --input signed.txt --metrics-port 9464");
  hetex::cli::Common common;
  int status = 0;
  hetex::cli::add_devices(app, status);
  hetex::cli::add_sha256(app, common, status);
  hetex::cli::add_verify(app, common, status);
  hetex::cli::add_bench(app, common, status);
  hetex::cli::add_image(app, common, status);
  hetex::cli::add_report(app, status);
  hetex::cli::add_ledger(app, common, status);
  hetex::cli::install_interrupt_handlers();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "hetex: out of memory\n");
    return 2;
  } catch (const std::exception& e) {
    // Commands report errors as values; reaching here is a bug, but still no abort.
    std::fprintf(stderr, "hetex: internal error: %s\n", e.what());
    return 2;
  }
  return status;
}
