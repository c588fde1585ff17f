// SPDX-License-Identifier: MIT
// hetex verify --input FILE: one "<public key hex> <signature hex> <message hex>" per line, one
// verdict line out per line in: valid, invalid, or "error: <reason>" for a malformed line.
#include <cstdio>
#include <optional>

#include "commands.hpp"
#include "input.hpp"
#include "interrupt.hpp"
#include "dist_cli.hpp"
#include "verify_line.hpp"

namespace hetex::cli {
namespace {

// A batch is verified once it holds this many lines or this many message bytes, whichever comes
// first, so memory stays bounded however long the messages are.
constexpr std::size_t kBatch = std::size_t(1) << 16;
constexpr std::size_t kBatchBytes = std::size_t(256) << 20;
// Longer lines are malformed (a 32 MiB message); they cost no more memory than this.
constexpr std::size_t kMaxLine = std::size_t(64) << 20;

struct Pending {
  std::vector<ops::PublicKey> keys;
  std::vector<ops::Signature> sigs;
  ops::PackedMessages msgs;
  std::vector<std::string> lines_out;  // "" where a verdict goes, "error: ..." otherwise
  void clear() { *this = Pending{}; }
};

}  // namespace

void add_verify(CLI::App& app, Common& common, int& status) {
  auto* cmd = app.add_subcommand("verify", "Verify Ed25519 signatures, one per input line");
  auto input = std::make_shared<std::string>();
  cmd->add_option("--input", *input,
                  "File of lines '<public key hex (64)> <signature hex (128)> <message hex>'; - is stdin")
      ->required();
  cmd->add_option("--device", common.device, "cpu, gpu or auto (the scheduler decides)")->capture_default_str();
  add_metrics_option(*cmd, common);
  auto dist = std::make_shared<DistArgs>();
  add_dist_options(*cmd, *dist, true);
  cmd->footer(
      "Output: one line per input line, in order: valid, invalid, or 'error: <reason>'.\n"
      "Exit status 1 if any line was malformed (the others are still verified).\n"
      "Examples:\n  hetex verify --input signed.txt --device gpu > verdicts.txt\n"
      "  producer | hetex verify --input - --metrics-port 9464 | consumer");
  cmd->callback([input, dist, &common, &status] {
    if (use_dist(*dist)) {
      status = dist_verify(*input, common, *dist);
      return;
    }
    auto opened = open_input(*input);
    if (!opened) {
      report_error("verify", opened.error());
      status = opened.error().code() == Errc::cancelled ? interrupted_status() : 2;
      return;
    }
    LineReader in(std::move(*opened), kMaxLine);
    auto metrics = serve_metrics(common);
    if (!metrics) {
      std::fprintf(stderr, "hetex verify: %s\n", metrics.error().describe().c_str());
      status = 2;
      return;
    }
    auto sched = make_scheduler(common.device, metrics->observer);
    if (!sched) {
      std::fprintf(stderr, "hetex verify: %s\n", sched.error().describe().c_str());
      status = 2;
      return;
    }
    announce_metrics(*metrics, "verify");
    std::size_t valid = 0, invalid = 0, malformed = 0, line_no = 0, printed = 0;
    Pending p;
    auto flush = [&]() -> bool {
      std::vector<ops::Verdict> verdicts(p.keys.size());
      if (!p.keys.empty()) {
        auto r =
            (*sched)->run(ops::ed25519_verify(), ops::VerifyBatch{p.keys, p.sigs, p.msgs.view()}, std::span(verdicts));
        if (!r || !r->all_ok()) {
          std::fprintf(stderr, "hetex verify: %s\n", (!r ? r.error() : r->status().error()).describe().c_str());
          return false;
        }
      }
      std::size_t k = 0;
      for (const auto& l : p.lines_out) {
        ++printed;
        if (!l.empty()) {
          ++malformed;
          std::printf("%s\n", l.c_str());
          continue;
        }
        const bool ok = verdicts[k++] == ops::Verdict::valid;
        (ok ? valid : invalid)++;
        std::printf("%s\n", ok ? "valid" : "invalid");
      }
      p.clear();
      return true;
    };
    SignedLine parsed;
    std::string line;
    for (bool too_long = false;;) {
      auto more = in.next(line, too_long);
      if (!more) {
        // Lines before the failure still get their verdicts.
        if (more.error().code() != Errc::cancelled) report_error("verify", more.error());
        status = more.error().code() == Errc::cancelled ? interrupted_status() : 1;
        break;
      }
      if (!*more || interrupted()) break;
      ++line_no;
      std::optional<std::string> err =
          too_long ? "longer than " + std::to_string(kMaxLine >> 20) + " MiB" : parse_verify_line(line, parsed);
      if (err) {
        p.lines_out.push_back("error: line " + std::to_string(line_no) + ": " + *err);
        continue;
      }
      p.keys.push_back(parsed.key);
      p.sigs.push_back(parsed.signature);
      p.msgs.add(std::span<const std::uint8_t>(parsed.message));
      p.lines_out.emplace_back();
      if ((p.keys.size() == kBatch || p.msgs.bytes() >= kBatchBytes) && !flush()) {
        status = 2;
        return;
      }
    }
    // Interrupted: the lines read since the last batch are dropped rather than verified now.
    if (!interrupted() && !flush()) {
      status = 2;
      return;
    }
    std::fprintf(stderr, "hetex verify: %zu lines: %zu valid, %zu invalid, %zu malformed\n", printed, valid, invalid,
                 malformed);
    if (interrupted()) {
      report_error("verify", "interrupted; verdicts were printed for the first " + std::to_string(printed) + " lines");
      status = interrupted_status();
    } else if (malformed && status == 0) {
      status = 1;
    }
  });
}

}  // namespace hetex::cli
