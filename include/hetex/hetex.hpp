// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Everything the README's tour uses: devices, buffers, streams, futures and coroutines, the
/// scheduler and its metrics, the built-in operations. No CUDA header is pulled in. (Fused
/// pipelines: hetex/parallel/pipeline.hpp; run-time kernels: hetex/parallel/rtc.hpp; images:
/// hetex/ops/image*.hpp.)
#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/core/simulated_gpu.hpp"
#include "hetex/memory/buffer.hpp"
#include "hetex/memory/pool.hpp"
#include "hetex/memory/view.hpp"
#include "hetex/async/channel.hpp"
#include "hetex/async/cpu_queue.hpp"
#include "hetex/async/future.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/async/task.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/exec/executor.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/metrics/scheduler_metrics.hpp"
#include "hetex/metrics/server.hpp"
#include "hetex/ops/ed25519.hpp"
#include "hetex/ops/sha256.hpp"
#include "hetex/ops/vector.hpp"
