#include <cstdio>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"hetex: batch work on every CPU core and every NVIDIA GPU of this machine"};
  app.set_version_flag("--version", std::string("hetex ") + HETEX_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success; 1 some inputs failed (each named on stderr), the rest were processed;\n"
      "2 bad usage or nothing could be processed.\n"
      "Environment: HETEX_DEVICES (e.g. cpu, cuda:0,cpu) restricts the devices used.");
  hetex::cli::Common common;
  int status = 0;
  hetex::cli::add_devices(app, status);
  hetex::cli::add_sha256(app, common, status);
  hetex::cli::add_verify(app, common, status);
  hetex::cli::add_bench(app, common, status);
  hetex::cli::add_image(app, common, status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return status;
}
