// SPDX-License-Identifier: MIT
#include "hetex/dist/metrics.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace hetex::dist {

std::string with_label(const std::string& text, const std::string& label, const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  const std::string pair = label + "=\"" + escaped + "\"";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') {
      out += line + '\n';
      continue;
    }
    // A sample: name, then {labels} or a space. Names never hold '{' or spaces.
    const auto cut = line.find_first_of("{ ");
    if (cut == std::string::npos) {
      out += line + '\n';
    } else if (line[cut] == '{') {
      const bool none = cut + 1 < line.size() && line[cut + 1] == '}';
      out += line.substr(0, cut + 1) + pair + (none ? "" : ",") + line.substr(cut + 1) + '\n';
    } else {
      out += line.substr(0, cut) + '{' + pair + '}' + line.substr(cut) + '\n';
    }
  }
  return out;
}

std::string merge_expositions(const std::vector<std::string>& texts) {
  struct Family {
    std::string help, type;
    std::vector<std::string> samples;
  };
  std::map<std::string, Family> families;
  for (const auto& text : texts) {
    std::istringstream in(text);
    std::string current;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
        const auto name_end = line.find(' ', 7);
        current = line.substr(7, name_end - 7);
        auto& f = families[current];
        (line[2] == 'H' ? f.help : f.type) = line;
        continue;
      }
      if (line[0] == '#') continue;
      // A sample of the family declared last, or (without declarations) of its own name.
      const auto name = line.substr(0, line.find_first_of("{ "));
      const bool ours = !current.empty() && name.rfind(current, 0) == 0;
      families[ours ? current : name].samples.push_back(line);
    }
  }
  std::string out;
  for (auto& [name, f] : families) {
    if (!f.help.empty()) out += f.help + '\n';
    if (!f.type.empty()) out += f.type + '\n';
    for (auto& s : f.samples) out += s + '\n';
  }
  return out;
}

struct RankObserver::Families {
  std::optional<metrics::Counter> chunks, cost;
  std::optional<metrics::Histogram> chunk_seconds;
  std::optional<metrics::CounterFamily> results, bytes;
  std::optional<metrics::GaugeFamily> last_heard;
};

Result<std::shared_ptr<RankObserver>> RankObserver::create(const Comm& comm, metrics::Registry& reg,
                                                           std::shared_ptr<metrics::TraceRecorder> trace) {
  auto f = std::make_shared<Families>();
  f->chunks.emplace(HETEX_TRY(reg.counter("hetex_dist_chunks_total", "Chunks of distributed jobs this rank ran")));
  f->cost.emplace(
      HETEX_TRY(reg.counter("hetex_dist_cost_total", "Cost units (items or bytes) of the chunks this rank ran")));
  f->chunk_seconds.emplace(HETEX_TRY(reg.histogram("hetex_dist_chunk_seconds", "Run time of a chunk on this rank",
                                                   {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})));
  f->results.emplace(
      HETEX_TRY(reg.counter_family("hetex_dist_results_total", "Rank 0: chunk results received, by rank", {"from"})));
  f->bytes.emplace(HETEX_TRY(reg.counter_family("hetex_dist_bytes_total",
                                                "Rank 0: chunk input sent to and results received from each rank",
                                                {"from", "direction"})));
  f->last_heard.emplace(
      HETEX_TRY(reg.gauge_family("hetex_dist_last_heard_seconds",
                                 "Rank 0: when each rank was last heard from (steady clock, seconds)", {"from"})));
  return std::shared_ptr<RankObserver>(new RankObserver(comm, reg, std::move(trace), std::move(f)));
}

RankObserver::RankObserver(const Comm& comm, metrics::Registry& registry, std::shared_ptr<metrics::TraceRecorder> trace,
                           std::shared_ptr<Families> f)
    : comm_(comm), registry_(registry), trace_(std::move(trace)), f_(std::move(f)) {}

void RankObserver::on_chunk_run(Range r, double cost, std::chrono::steady_clock::time_point start,
                                std::chrono::steady_clock::time_point finish) {
  f_->chunks->inc();
  f_->cost->inc(cost);
  f_->chunk_seconds->observe(std::chrono::duration<double>(finish - start).count());
  if (trace_)
    trace_->record("chunk", "dist", "job", start, finish - start, {{"begin", r.begin}, {"end", r.end}, {"cost", cost}});
}

void RankObserver::on_chunk_done(int rank, Range, double, double, std::size_t input_bytes, std::size_t result_bytes) {
  const auto from = std::to_string(rank);
  if (auto c = f_->results->with({from})) c->inc();
  if (auto c = f_->bytes->with({from, "to_rank"})) c->inc(static_cast<double>(input_bytes));
  if (auto c = f_->bytes->with({from, "from_rank"})) c->inc(static_cast<double>(result_bytes));
}

void RankObserver::on_heard(int rank) {
  if (auto g = f_->last_heard->with({std::to_string(rank)}))
    g->set(std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::string RankObserver::rank_text() const {
  return with_label(registry_.prometheus_text(), "rank", std::to_string(comm_.rank()));
}

std::string RankObserver::snapshot() { return rank_text(); }

void RankObserver::on_peer_snapshot(int rank, std::string text) {
  std::lock_guard lock(m_);
  peer_metrics_[rank] = std::move(text);
}

std::string RankObserver::aggregate_text() const {
  std::vector<std::string> texts{rank_text()};
  std::lock_guard lock(m_);
  for (const auto& [r, t] : peer_metrics_) texts.push_back(t);
  return merge_expositions(texts);
}

std::string RankObserver::trace_payload() const {
  if (!trace_) return {};
  // Where the recorder's origin lies on the wall clock: what lines the ranks' rows up.
  const auto age = std::chrono::steady_clock::now() - trace_->origin();
  const auto origin_us =
      std::chrono::duration_cast<std::chrono::microseconds>((std::chrono::system_clock::now() - age).time_since_epoch())
          .count();
  nlohmann::json j = {{"origin_us", origin_us}, {"trace", trace_->chrome_trace_json()}};
  return j.dump();
}

std::string RankObserver::final_text() { return trace_payload(); }

void RankObserver::on_peer_final(int rank, std::string text) {
  if (text.empty()) return;
  std::lock_guard lock(m_);
  peer_traces_[rank] = std::move(text);
}

std::string RankObserver::merged_trace_json() const {
  using nlohmann::json;
  std::map<int, std::string> payloads;
  {
    std::lock_guard lock(m_);
    payloads = peer_traces_;
  }
  if (auto mine = trace_payload(); !mine.empty()) payloads[comm_.rank()] = mine;
  json events = json::array();
  std::optional<double> base;  // the earliest origin, µs
  std::map<int, json> parsed;
  for (const auto& [rank, text] : payloads) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.contains("trace")) continue;
    auto trace = json::parse(j["trace"].get<std::string>(), nullptr, false);
    if (trace.is_discarded()) continue;
    const double origin = j.value("origin_us", 0.0);
    base = base ? std::min(*base, origin) : origin;
    parsed[rank] = {{"origin", origin}, {"events", std::move(trace["traceEvents"])}};
  }
  for (auto& [rank, p] : parsed) {
    const double shift = p["origin"].get<double>() - *base;
    const int pid = rank + 1;
    for (auto& e : p["events"]) {
      e["pid"] = pid;
      if (e.value("ph", "") == "M" && e.value("name", "") == "process_name") e["args"]["name"] = comm_.describe(rank);
      if (e.contains("ts")) e["ts"] = e["ts"].get<double>() + shift;
      events.push_back(std::move(e));
    }
    events.push_back(
        {{"name", "process_sort_index"}, {"ph", "M"}, {"pid", pid}, {"tid", 0}, {"args", {{"sort_index", pid}}}});
  }
  json out = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<metrics::MetricsServer> RankObserver::serve(std::uint16_t port, std::string bind) {
  // This rank's index among the ranks of its host: ranks on one host take consecutive ports.
  std::uint16_t offset = 0;
  for (int r = 0; r < comm_.rank(); ++r)
    if (comm_.host(r) == comm_.host(comm_.rank())) ++offset;
  std::vector<metrics::MetricsServer::Page> pages;
  const char* type = "text/plain; version=0.0.4; charset=utf-8";
  pages.push_back({"/metrics", type, [this] { return rank_text(); }});
  if (comm_.is_root()) pages.push_back({"/metrics/all", type, [this] { return aggregate_text(); }});
  return metrics::MetricsServer::start(std::move(pages), port == 0 ? 0 : static_cast<std::uint16_t>(port + offset),
                                       std::move(bind));
}

}  // namespace hetex::dist
