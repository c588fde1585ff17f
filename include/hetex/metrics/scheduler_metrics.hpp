// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// What the scheduler does, as Prometheus metrics and a Chrome trace.
///
/// @code
/// auto m = metrics::SchedulerMetrics::create().value();       // into Registry::global()
/// SchedulerOptions o; o.observer = m;
/// auto server = metrics::MetricsServer::start(metrics::Registry::global(), 9464).value();
/// @endcode
///
/// Families (all prefixed hetex_): items_total{device,op}, chunks_total{device,op,outcome},
/// fallback_items_total{op}, errors_total{device,kind}, batches_total{op,policy},
/// failed_items_total{op}, batch_seconds{op} and chunk_seconds{device,op} (histograms),
/// queue_depth, device_up{device}, pool_bytes{device,pool,kind}.

#include <memory>
#include <span>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/metrics/registry.hpp"
#include "hetex/metrics/trace.hpp"

namespace hetex::metrics {

/// Scheduler events as Prometheus metrics (and optionally a trace): pass it as
/// SchedulerOptions::observer. Thread-safe; the registry must outlive it.
class SchedulerMetrics final : public SchedulerObserver {
 public:
  /// trace, when given, receives one event per chunk on the track of the device that ran it.
  static Result<std::shared_ptr<SchedulerMetrics>> create(Registry& registry = Registry::global(),
                                                          std::shared_ptr<TraceRecorder> trace = nullptr);

  void on_chunk(const std::string& op, const ChunkRecord& chunk) override;
  void on_batch(const ExecStats& stats) override;
  void on_queue_depth(std::size_t depth) override;
  void on_device_state(DeviceId device, DeviceState state) override;

  /// Sets the pool gauges from the device pools of `gpus` and the shared pinned pool (call before
  /// a scrape, or after batches).
  void sample_pools(std::span<const Device> gpus);

  /// The trace given to create(), or null.
  const std::shared_ptr<TraceRecorder>& trace() const noexcept { return trace_; }

 private:
  SchedulerMetrics(CounterFamily items, CounterFamily chunks, CounterFamily fallback, CounterFamily errors,
                   CounterFamily batches, CounterFamily failed, HistogramFamily batch_s, HistogramFamily chunk_s,
                   Gauge depth, GaugeFamily up, GaugeFamily pool, std::shared_ptr<TraceRecorder> trace)
      : items_(items),
        chunks_(chunks),
        fallback_(fallback),
        errors_(errors),
        batches_(batches),
        failed_(failed),
        batch_s_(batch_s),
        chunk_s_(chunk_s),
        depth_(depth),
        up_(up),
        pool_(pool),
        trace_(std::move(trace)) {}

  CounterFamily items_, chunks_, fallback_, errors_, batches_, failed_;
  HistogramFamily batch_s_, chunk_s_;
  Gauge depth_;
  GaugeFamily up_, pool_;
  std::shared_ptr<TraceRecorder> trace_;
};

}  // namespace hetex::metrics
