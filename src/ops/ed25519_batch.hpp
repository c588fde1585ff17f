// SPDX-License-Identifier: MIT
#pragma once
// What the CPU (ed25519.cpp) and GPU (ed25519.cu) halves of Ed25519 verification share.
#include <span>

#include "hetex/ops/ed25519.hpp"
#include "ed25519_verify.hpp"

namespace hetex::ops::detail {

// batch.validate() plus out.size() == batch.size(): invalid_argument otherwise.
Status check_verify_args(const VerifyBatch& batch, std::span<const Verdict> out);

// k B for k = 0..128, built once (thread-safely) on first use; the GPU copies it to each device.
const hetex::detail::ed25519::BaseEntry* ed25519_base_table();

}  // namespace hetex::ops::detail
