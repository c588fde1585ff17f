// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The pipeline's stages that run on the hybrid scheduler, each usable on its own:
///
/// @code
/// auto sched = Scheduler::create(runtime).value();
/// HETEX_TRY(verify_signatures(*sched, txs));           // sets txs[i].signature_valid
/// HETEX_TRY(transaction_ids(*sched, lines, ids));       // SHA-256 of each text line
/// Hash root = HETEX_TRY(merkle_root(*sched, ids));      // RFC 6962 over the ids
/// @endcode
///
/// The scheduler puts each batch on the CPU, a GPU or both, and redoes on the CPU whatever a GPU
/// fails: a GPU fault costs time, never a transaction. An error here means an item failed on every
/// device (or the batch was malformed); the block must then not be committed.

#include <span>
#include <vector>

#include "hetex/exec/scheduler.hpp"
#include "hetex/ledger/transfer.hpp"
#include "hetex/ledger/types.hpp"
#include "hetex/ops/messages.hpp"

namespace hetex::ledger {

/// Ed25519 verdicts (libsodium's rules) for every transfer's signature over signing_message().
Result<ExecReport> verify_signatures(Scheduler& sched, std::span<VerifiedTransfer> txs);

/// ids[i] = SHA-256(lines[i]). lines are the transactions' text lines without newlines.
Result<ExecReport> transaction_ids(Scheduler& sched, const ops::MessageBatch& lines, std::span<Hash> ids);

/// The RFC 6962 Merkle tree hash of the leaves `ids`: a leaf hashes as SHA-256(0x00 || id), a node
/// as SHA-256(0x01 || left || right), the tree over n > 1 leaves splits at the largest power of two
/// below n, and no leaves hash as SHA-256 of nothing. Computed level by level, each wide level one
/// batch on the scheduler (a level's odd last node moves up unchanged, which is the same tree).
Result<Hash> merkle_root(Scheduler& sched, std::span<const Hash> ids);
/// The same root by the RFC's recursive definition, on the calling thread: the reference.
Hash merkle_root_reference(std::span<const Hash> ids);

}  // namespace hetex::ledger
