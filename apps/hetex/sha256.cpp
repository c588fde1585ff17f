// SPDX-License-Identifier: MIT
// hetex sha256 FILE...: one "<hex digest>  <name>" line per file, as sha256sum prints them (so
// `sha256sum -c` accepts the output). Files are hashed as one batch per group of up to 256 MiB.
#include <cstdio>

#include "commands.hpp"
#include "dist_cli.hpp"
#include "hetex/ops/sha256.hpp"
#include "input.hpp"
#include "interrupt.hpp"
#include "sha256_line.hpp"

namespace hetex::cli {
namespace {

constexpr std::size_t kGroupBytes = std::size_t(256) << 20;

}  // namespace

void add_sha256(CLI::App& app, Common& common, int& status) {
  auto* cmd = app.add_subcommand("sha256", "Print the SHA-256 digest of each file, like sha256sum");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "Files to hash; - reads standard input")->required();
  cmd->add_option("--device", common.device, "cpu, gpu or auto (the scheduler decides)")->capture_default_str();
  add_metrics_option(*cmd, common);
  auto dist = std::make_shared<DistArgs>();
  add_dist_options(*cmd, *dist, true);
  cmd->footer(
      "Output: '<hex digest>  <name>' per file, in argument order (sha256sum's format).\n"
      "Exit status 1 if a file could not be read (a directory, missing, unreadable, or changed while read: named\n"
      "on stderr; the others are still hashed); 130 after Ctrl-C.\n"
      "Examples:\n  hetex sha256 *.iso > SUMS && sha256sum -c SUMS\n  cat msg | hetex sha256 -\n"
      "  hetex sha256 --device gpu --metrics-port 9464 data/*.bin");
  cmd->callback([files, dist, &common, &status] {
    if (use_dist(*dist)) {
      status = dist_sha256(*files, common, *dist);
      return;
    }
    auto metrics = serve_metrics(common);
    if (!metrics) {
      std::fprintf(stderr, "hetex sha256: %s\n", metrics.error().describe().c_str());
      status = 2;
      return;
    }
    auto sched = make_scheduler(common.device, metrics->observer);
    if (!sched) {
      std::fprintf(stderr, "hetex sha256: %s\n", sched.error().describe().c_str());
      status = 2;
      return;
    }
    announce_metrics(*metrics, "sha256");
    std::size_t next = 0, hashed = 0;
    while (next < files->size()) {
      // A group of files, read whole, hashed as one batch; output stays in argument order.
      ops::PackedMessages packed;
      std::vector<std::string> names;
      std::size_t bytes = 0;
      for (; next < files->size() && (names.empty() || bytes < kGroupBytes) && !interrupted(); ++next) {
        const auto& name = (*files)[next];
        auto data = read_input(name);
        if (!data) {
          if (data.error().code() != Errc::cancelled) report_error("sha256", data.error());
          status = 1;
          continue;
        }
        bytes += data->size();
        packed.add(std::span<const std::uint8_t>(*data));
        names.push_back(name);
      }
      if (interrupted()) {
        // The files read since the last digests were printed are not hashed: stop now.
        report_error("sha256", "interrupted; " + std::to_string(hashed) + " of " + std::to_string(files->size()) +
                                   " digests printed");
        status = interrupted_status();
        return;
      }
      if (names.empty()) continue;
      std::vector<ops::Digest> out(names.size());
      auto r = (*sched)->run(ops::sha256(), packed.view(), std::span(out));
      if (!r || !r->all_ok()) {
        std::fprintf(stderr, "hetex sha256: %s\n", (!r ? r.error() : r->status().error()).describe().c_str());
        status = 2;
        return;
      }
      for (std::size_t i = 0; i < names.size(); ++i) std::fputs(sha256_line(out[i], names[i]).c_str(), stdout);
      hashed += names.size();
    }
  });
}

}  // namespace hetex::cli
