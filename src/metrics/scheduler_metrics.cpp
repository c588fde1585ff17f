// SPDX-License-Identifier: MIT
#include "hetex/metrics/scheduler_metrics.hpp"

#include "hetex/memory/pool.hpp"

namespace hetex::metrics {

Result<std::shared_ptr<SchedulerMetrics>> SchedulerMetrics::create(Registry& r, std::shared_ptr<TraceRecorder> trace) {
  auto items =
      HETEX_TRY(r.counter_family("hetex_items_total", "Items whose result a device delivered", {"device", "op"}));
  auto chunks =
      HETEX_TRY(r.counter_family("hetex_chunks_total", "Chunk attempts by outcome", {"device", "op", "outcome"}));
  auto fallback =
      HETEX_TRY(r.counter_family("hetex_fallback_items_total", "Items redone on the CPU after a GPU failure", {"op"}));
  auto errors =
      HETEX_TRY(r.counter_family("hetex_errors_total", "Failed chunk attempts by error kind", {"device", "kind"}));
  auto batches = HETEX_TRY(r.counter_family("hetex_batches_total", "Batches completed", {"op", "policy"}));
  auto failed =
      HETEX_TRY(r.counter_family("hetex_failed_items_total", "Items that got an error instead of a result", {"op"}));
  auto batch_s = HETEX_TRY(r.histogram_family("hetex_batch_seconds", "Batch latency, submit to last result",
                                              latency_buckets_seconds(), {"op"}));
  auto chunk_s = HETEX_TRY(r.histogram_family("hetex_chunk_seconds", "Chunk run time on a device",
                                              latency_buckets_seconds(), {"device", "op"}));
  auto depth = HETEX_TRY(r.gauge("hetex_queue_depth", "Batches admitted and not yet finished"));
  auto up = HETEX_TRY(
      r.gauge_family("hetex_device_up", "1 while the device takes work, 0 while suspended or retired", {"device"}));
  auto pool =
      HETEX_TRY(r.gauge_family("hetex_pool_bytes", "Bytes held by hetex memory pools", {"device", "pool", "kind"}));
  return std::shared_ptr<SchedulerMetrics>(new SchedulerMetrics(items, chunks, fallback, errors, batches, failed,
                                                                batch_s, chunk_s, depth, up, pool, std::move(trace)));
}

void SchedulerMetrics::on_chunk(const std::string& op, const ChunkRecord& c) {
  const std::string outcome(to_string(c.outcome));
  const std::string device = c.device.to_string();
  if (auto x = chunks_.with({device, op, outcome})) x->inc();
  const double seconds = std::chrono::duration<double>(c.finish - c.start).count();
  if (c.outcome == ChunkRecord::Outcome::done) {
    if (auto x = items_.with({device, op})) x->inc(static_cast<double>(c.items()));
    if (c.fallback)
      if (auto x = fallback_.with({op})) x->inc(static_cast<double>(c.items()));
  } else if (auto x = errors_.with({device, to_string(c.error)})) {
    x->inc();
  }
  if (auto h = chunk_s_.with({device, op})) h->observe(seconds);
  if (trace_) {
    trace_->record(op, c.fallback ? "fallback" : "chunk", device, c.start, c.finish - c.start,
                   {{"items", c.items()}, {"begin", c.begin}, {"outcome", outcome}, {"stolen", c.stolen}});
  }
}

void SchedulerMetrics::on_batch(const ExecStats& s) {
  if (auto x = batches_.with({s.operation, s.policy})) x->inc();
  if (s.failed_items)
    if (auto x = failed_.with({s.operation})) x->inc(static_cast<double>(s.failed_items));
  if (auto h = batch_s_.with({s.operation})) h->observe(s.total_seconds);
}

void SchedulerMetrics::on_queue_depth(std::size_t depth) { depth_.set(static_cast<double>(depth)); }

void SchedulerMetrics::on_device_state(DeviceId device, DeviceState state) {
  if (auto g = up_.with({device.to_string()}))
    g->set(state == DeviceState::healthy || state == DeviceState::probing ? 1 : 0);
}

void SchedulerMetrics::sample_pools(std::span<const Device> gpus) {
  for (const auto& g : gpus) {
    if (!g.is_gpu()) continue;
    auto p = DevicePool::shared(g);
    if (!p) continue;
    const auto st = (*p)->stats();
    const auto name = g.id().to_string();
    if (auto x = pool_.with({name, "device", "in_use"})) x->set(static_cast<double>(st.bytes_in_use));
    if (auto x = pool_.with({name, "device", "reserved"})) x->set(static_cast<double>(st.bytes_reserved));
  }
  const auto pinned = PinnedPool::shared().stats();
  if (auto x = pool_.with({"host", "pinned", "in_use"})) x->set(static_cast<double>(pinned.bytes_in_use));
  if (auto x = pool_.with({"host", "pinned", "cached"})) x->set(static_cast<double>(pinned.bytes_cached));
}

}  // namespace hetex::metrics
