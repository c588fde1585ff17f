// SPDX-License-Identifier: MIT
#include "hetex/ledger/metrics.hpp"

#include <string>

namespace hetex::ledger {

std::string_view to_string(Stage s) noexcept {
  switch (s) {
    case Stage::parse: return "parse";
    case Stage::verify: return "verify";
    case Stage::hash: return "hash";
    case Stage::execute: return "execute";
    case Stage::commit: return "commit";
  }
  return "unknown";
}

Result<std::shared_ptr<LedgerMetrics>> LedgerMetrics::create(metrics::Registry& reg,
                                                             std::shared_ptr<metrics::TraceRecorder> trace) {
  std::shared_ptr<LedgerMetrics> m(new LedgerMetrics());
  m->trace_ = std::move(trace);
  auto seconds =
      HETEX_TRY(reg.histogram_family("hetex_ledger_stage_seconds", "Time a pipeline stage spent on one block",
                                     metrics::latency_buckets_seconds(), {"stage"}));
  auto items = HETEX_TRY(
      reg.counter_family("hetex_ledger_stage_items_total", "Transactions through each pipeline stage", {"stage"}));
  auto depth = HETEX_TRY(
      reg.gauge_family("hetex_ledger_queue_depth", "Blocks waiting in front of each pipeline stage", {"stage"}));
  for (std::size_t i = 0; i < kStages; ++i) {
    const auto name = to_string(static_cast<Stage>(i));
    m->stages_[i] =
        PerStage{HETEX_TRY(seconds.with({name})), HETEX_TRY(items.with({name})), HETEX_TRY(depth.with({name}))};
  }
  auto txs = HETEX_TRY(
      reg.counter_family("hetex_ledger_transactions_total", "Committed transactions by receipt status", {"status"}));
  for (int i = 0; i < kTxStatusCount; ++i) m->txs_[i] = HETEX_TRY(txs.with({to_string(static_cast<TxStatus>(i))}));
  m->blocks_ = HETEX_TRY(reg.counter("hetex_ledger_blocks_total", "Blocks committed"));
  m->height_ = HETEX_TRY(reg.gauge("hetex_ledger_height", "Height of the last committed block"));
  m->executions_ =
      HETEX_TRY(reg.counter("hetex_ledger_executions_total", "Transaction executions, re-executions included"));
  m->reexecutions_ = HETEX_TRY(
      reg.counter("hetex_ledger_reexecutions_total", "Executions beyond the first of each transaction (Block-STM)"));
  m->validations_ = HETEX_TRY(reg.counter("hetex_ledger_validations_total", "Read-set validations (Block-STM)"));
  m->aborts_ = HETEX_TRY(reg.counter("hetex_ledger_aborts_total", "Incarnations aborted by a failed validation"));
  m->dependencies_ = HETEX_TRY(
      reg.counter("hetex_ledger_dependencies_total", "Executions suspended on an ESTIMATE of a lower transaction"));
  m->sequential_ =
      HETEX_TRY(reg.counter("hetex_ledger_sequential_blocks_total",
                            "Blocks executed in order on one thread (measured cheaper, or too little parallelism)"));
  return m;
}

void LedgerMetrics::stage_done(Stage s, std::uint64_t height, std::size_t items,
                               std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end) {
  auto& st = *stages_[static_cast<std::size_t>(s)];
  st.seconds.observe(std::chrono::duration<double>(end - start).count());
  st.items.inc(static_cast<double>(items));
  if (trace_)
    trace_->record("block " + std::to_string(height), "ledger", "ledger " + std::string(to_string(s)), start,
                   end - start, {{"height", height}, {"transactions", items}});
}

void LedgerMetrics::queue_depth(Stage s, std::size_t blocks) {
  stages_[static_cast<std::size_t>(s)]->depth.set(static_cast<double>(blocks));
}

void LedgerMetrics::executed(const stm::ExecutionStats& stats) {
  executions_->inc(static_cast<double>(stats.executions));
  reexecutions_->inc(static_cast<double>(stats.reexecutions()));
  validations_->inc(static_cast<double>(stats.validations));
  aborts_->inc(static_cast<double>(stats.aborts));
  dependencies_->inc(static_cast<double>(stats.dependencies));
  if (!stats.parallel()) sequential_->inc();
}

void LedgerMetrics::committed(const BlockHeader& header, const std::array<std::size_t, kTxStatusCount>& by_status) {
  blocks_->inc();
  height_->set(static_cast<double>(header.height));
  for (int i = 0; i < kTxStatusCount; ++i) txs_[i]->inc(static_cast<double>(by_status[i]));
}

}  // namespace hetex::ledger
