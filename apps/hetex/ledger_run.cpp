// SPDX-License-Identifier: MIT
// hetex ledger run: transfers through the pipeline into a RocksDB database, a line per block;
// hetex ledger state: accounts from such a database.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "hetex/ledger/pipeline.hpp"
#include "hetex/ledger/store.hpp"
#include "hetex/core/file.hpp"
#include "ledger_cli.hpp"

namespace hetex::cli::ledger {

using namespace hetex::ledger;

namespace {

struct RunArgs {
  std::string db, genesis, input, receipts, trace;
  std::size_t block_size = 10'000;
  unsigned threads = 0;
  bool sync = false;
};

Status export_receipts(const Store& store, const std::string& path) {
  return write_file_atomic(path, [&](std::FILE* f) {
    return store.for_each_receipt([&](std::uint64_t height, std::size_t i, const Hash& id, TxStatus st) {
      std::fprintf(f, "%llu %zu %s %s\n", static_cast<unsigned long long>(height), i, to_hex(id).c_str(),
                   std::string(to_string(st)).c_str());
    });
  });
}

int run(const RunArgs& a, const Common& common) {
  auto fail = [](const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "hetex ledger run: %s\n", e.message().c_str());
    return 2;
  };
  if (!store_available()) return fail(Store::open(a.db, {}, 1).error());
  if (a.input != "-" && !std::filesystem::is_regular_file(a.input))
    return fail(Error(Errc::io, a.input + ": no such transactions file"));
  auto genesis = read_genesis(a.genesis);
  if (!genesis) return fail(genesis.error());
  auto store = Store::open(a.db, *genesis, a.block_size, {.sync = a.sync});
  if (!store) return fail(store.error());
  const Tip tip = (*store)->tip();
  if (tip.height > 0)
    std::fprintf(stderr, "hetex ledger run: %s holds blocks 1-%llu; resuming after block %llu\n", a.db.c_str(),
                 static_cast<unsigned long long>(tip.height), static_cast<unsigned long long>(tip.height));
  auto state = (*store)->load_accounts();
  if (!state) return fail(state.error());

  auto& registry = metrics::Registry::global();
  std::shared_ptr<metrics::TraceRecorder> trace;
  if (!a.trace.empty()) trace = std::make_shared<metrics::TraceRecorder>();
  std::shared_ptr<SchedulerObserver> observer;
  std::optional<metrics::MetricsServer> server;
  PipelineOptions o{.block_size = a.block_size, .executor_threads = a.threads};
  if (common.metrics_port >= 0 || trace) {
    auto sm = metrics::SchedulerMetrics::create(registry, trace);
    auto lm = LedgerMetrics::create(registry, trace);
    if (!sm) return fail(sm.error());
    if (!lm) return fail(lm.error());
    observer = *sm;
    o.metrics = *lm;
  }
  if (common.metrics_port >= 0) {
    auto s = metrics::MetricsServer::start(registry, static_cast<std::uint16_t>(common.metrics_port));
    if (!s) return fail(s.error());
    server.emplace(std::move(*s));
    std::fprintf(stderr, "hetex ledger run: metrics at http://%s:%u/metrics\n", server->bind_address().c_str(),
                 unsigned(server->port()));
  }
  auto sched = make_scheduler(common.device, observer);
  if (!sched) return fail(sched.error());

  const bool tty = ::isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  std::size_t done = 0;
  o.on_commit = [&](const CommittedBlock& b) {
    const auto& h = b.header;
    std::printf("block %llu txs %zu accepted %llu rejected %llu merkle %s hash %s\n",
                static_cast<unsigned long long>(h.height), b.statuses.size(),
                static_cast<unsigned long long>(h.accepted), static_cast<unsigned long long>(h.rejected),
                to_hex(h.merkle_root).c_str(), to_hex(b.hash).c_str());
    done += b.statuses.size();
    if (tty) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fflush(stdout);
      std::fprintf(stderr, "\r  block %llu, %zu transactions, %.0f tps   ", static_cast<unsigned long long>(h.height),
                   done, s > 0 ? double(done) / s : 0.0);
    }
  };
  auto r = run_pipeline(**sched, a.input, *state, tip, **store, o);
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  std::fflush(stdout);
  int rc = 0;
  if (!r) {
    const auto now = (*store)->tip().height;
    std::fprintf(stderr, "hetex ledger run: %s\nhetex ledger run: stopped; blocks 1-%llu are committed\n",
                 r.error().message().c_str(), static_cast<unsigned long long>(now));
    rc = 1;
  } else if (r->blocks == 0) {
    std::printf("nothing to do: all %llu blocks of %s are committed\n", static_cast<unsigned long long>(tip.height),
                a.input.c_str());
  } else {
    const auto& s = *r;
    std::printf("summary: blocks %llu-%llu, %zu transactions in %.3f s: %.0f tps\n",
                static_cast<unsigned long long>(s.first_height), static_cast<unsigned long long>(s.last_height),
                s.transactions, s.seconds, s.seconds > 0 ? double(s.transactions) / s.seconds : 0.0);
    std::printf("receipts:");
    for (int i = 0; i < kTxStatusCount; ++i)
      std::printf(" %s %zu", std::string(to_string(static_cast<TxStatus>(i))).c_str(), s.by_status[i]);
    std::printf("\nstages (busy seconds):");
    for (std::size_t i = 0; i < kStages; ++i)
      std::printf(" %s %.3f", std::string(to_string(static_cast<Stage>(i))).c_str(), s.stage_seconds[i]);
    std::printf(
        "\nexecutor: %u threads, %zu executions (%zu re-executions), %zu validations, %zu aborts, "
        "%zu waits on estimates, %zu of %zu blocks in order on one thread (the rest in parallel)\n",
        a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency()), s.execution.executions,
        s.execution.reexecutions(), s.execution.validations, s.execution.aborts, s.execution.dependencies,
        s.sequential_blocks, s.blocks);
    std::printf("devices:");
    for (const auto& [op, devices] : s.device_items) {
      std::printf(" %s", op.c_str());
      for (const auto& [device, n] : devices) std::printf(" %s %zu", device.c_str(), n);
      std::printf(";");
    }
    std::printf(" %zu items redone on the CPU after GPU failures\n", s.fallback_items);
  }
  if (!a.receipts.empty()) {
    if (auto st = export_receipts(**store, a.receipts); !st) {
      std::fprintf(stderr, "hetex ledger run: %s\n", st.error().message().c_str());
      rc = rc ? rc : 2;
    }
  }
  if (trace) {
    if (auto st = trace->write_chrome_trace(a.trace); !st) {
      std::fprintf(stderr, "hetex ledger run: %s\n", st.error().message().c_str());
      rc = rc ? rc : 2;
    }
  }
  return rc;
}

int state(const std::string& db, const std::vector<std::string>& keys) {
  auto store = Store::open_existing(db, {.read_only = true});
  if (!store) {
    std::fprintf(stderr, "hetex ledger state: %s\n", store.error().message().c_str());
    return 2;
  }
  const auto tip = (*store)->tip();
  std::fprintf(stderr, "hetex ledger state: %s at block %llu (hash %s)\n", db.c_str(),
               static_cast<unsigned long long>(tip.height), to_hex(tip.hash).c_str());
  auto print = [](const PublicKey& k, const Account& a) {
    std::printf("%s %llu %llu\n", to_hex(k).c_str(), static_cast<unsigned long long>(a.balance),
                static_cast<unsigned long long>(a.nonce));
  };
  if (keys.empty()) {
    if (auto st = (*store)->for_each_account(print); !st) {
      std::fflush(stdout);
      std::fprintf(stderr, "hetex ledger state: %s\n", st.error().message().c_str());
      return 2;
    }
    return 0;
  }
  int rc = 0;
  for (const auto& text : keys) {
    PublicKey k;
    auto fail = [&](const std::string& why) {
      std::fflush(stdout);
      std::fprintf(stderr, "hetex ledger state: %s: %s\n", text.c_str(), why.c_str());
      rc = rc ? rc : 1;
    };
    if (!from_hex(text, k)) {
      fail("not a public key (64 hex digits)");
      continue;
    }
    auto a = (*store)->account(k);
    if (!a) {
      fail(a.error().message());
      rc = 2;
    } else if (!*a) {
      fail("no such account");
    } else {
      print(k, **a);
    }
  }
  return rc;
}

}  // namespace

void add_run(CLI::App& ledger, Common& common, int& status) {
  auto* cmd = ledger.add_subcommand("run", "Run transfers through the pipeline into a RocksDB ledger");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("--db", a->db, "Database directory (created with the genesis when absent)")->required();
  cmd->add_option("--genesis", a->genesis, "Genesis file ('<public key hex> <balance>' per line)")->required();
  cmd->add_option("--block-size", a->block_size, "Transactions per block")
      ->capture_default_str()
      ->check(CLI::Range(1ul, 1ul << 24));
  cmd->add_option("--device", common.device,
                  "Signature checks and hashing on: cpu, gpu or auto (the scheduler decides)")
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "Executor threads (0: every hardware thread)")->capture_default_str();
  cmd->add_flag("--sync", a->sync,
                "fsync each block's commit: committed blocks survive a power loss, not just a crash");
  cmd->add_option(
      "--receipts", a->receipts,
      "Write every committed receipt, '<height> <index> <transaction id hex> <status>' per line, at the end");
  cmd->add_option("--trace", a->trace, "Write a Chrome trace (Perfetto) of the stages and devices at the end");
  add_metrics_option(*cmd, common);
  cmd->add_option("transactions", a->input,
                  "Transfers file ('<from> <to> <amount> <nonce> <signature>' per line); - is stdin")
      ->required();
  cmd->footer(
      "Output: a line per committed block, then a summary. Blocks are consecutive groups of --block-size lines;\n"
      "each commits in one atomic RocksDB write. Run again with the same --db and input after a crash (or an\n"
      "error) to resume after the last committed block; a --db from another genesis or block size is refused.\n"
      "Exit status: 1 when a bad line or a failed commit stopped the run (earlier blocks are committed),\n"
      "2 when nothing could start (bad genesis, database refused, no GPU for --device gpu).\n"
      "Example:\n  hetex ledger run --db chain.db --genesis g.txt --block-size 10000 --sync --receipts r.txt txs.txt");
  cmd->callback([a, &common, &status] { status = run(*a, common); });
}

void add_state(CLI::App& ledger, int& status) {
  auto* cmd = ledger.add_subcommand("state", "Print accounts of a ledger database");
  auto db = std::make_shared<std::string>();
  auto keys = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--db", *db, "Database directory")->required();
  cmd->add_option("keys", *keys, "Public keys (hex) to print; none: every account, sorted by key");
  cmd->footer(
      "Output: '<public key hex> <balance> <nonce>' per account; the block height on stderr.\n"
      "Exit status 1 if a key is malformed or has no account (named on stderr; the others are printed).");
  cmd->callback([db, keys, &status] {
    if (!store_available()) {
      std::fprintf(stderr, "hetex ledger state: %s\n", Store::open_existing(*db).error().message().c_str());
      status = 2;
      return;
    }
    status = state(*db, *keys);
  });
}

}  // namespace hetex::cli::ledger
