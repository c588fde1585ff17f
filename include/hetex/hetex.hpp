#pragma once
// Everything a host-only user of hetex needs; no CUDA headers are pulled in.
#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/memory/buffer.hpp"
#include "hetex/memory/view.hpp"
#include "hetex/async/future.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/async/transfer.hpp"
