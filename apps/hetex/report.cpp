// SPDX-License-Identifier: MIT
// `hetex report`: renders a report saved by `hetex bench --json` again, as the terminal table,
// Markdown (what scripts/benchmarks-page.sh puts in docs/benchmarks.md) or the HTML page.
#include <cstdio>

#include "commands.hpp"
#include "hetex/core/file.hpp"
#include "hetex/metrics/report.hpp"

namespace hetex::cli {
namespace {

struct ReportArgs {
  std::string input, format = "table", out;
};

int run_report(const ReportArgs& a) {
  auto bytes = read_file(a.input);
  if (!bytes) {
    std::fprintf(stderr, "hetex report: %s\n", bytes.error().describe().c_str());
    return 2;
  }
  auto report = metrics::report_from_json(std::string(bytes->begin(), bytes->end()));
  if (!report) {
    std::fprintf(stderr, "hetex report: %s: %s\n", a.input.c_str(), report.error().describe().c_str());
    return 2;
  }
  std::string rendered;
  if (a.format == "markdown")
    rendered = metrics::render_markdown(*report);
  else if (a.format == "html")
    rendered = metrics::render_html(*report);
  else
    rendered = metrics::render_table(*report);
  if (a.out.empty()) {
    std::fwrite(rendered.data(), 1, rendered.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  if (auto st = write_file_atomic(a.out, rendered); !st) {
    std::fprintf(stderr, "hetex report: --out: %s\n", st.error().describe().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void add_report(CLI::App& app, int& status) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "Render a saved `hetex bench --json` report as a table, Markdown or HTML");
  cmd->add_option("input", a->input, "The JSON file `hetex bench --json` wrote")->required();
  cmd->add_option("--format", a->format, "table (default), markdown or html")
      ->check(CLI::IsMember({"table", "markdown", "html"}));
  cmd->add_option("--out", a->out, "Write to this file instead of standard output");
  cmd->footer(
      "Examples:\n"
      "  hetex report bench.json\n"
      "  hetex report bench.json --format markdown --out benchmarks.md");
  cmd->callback([a, &status] { status = run_report(*a); });
}

}  // namespace hetex::cli
