// SPDX-License-Identifier: MIT
// hetex ledger bench: the ledger's figures, each beside its comparator, measured in one run.
//   e2e       end-to-end transactions per second from generated files into RocksDB, CPU only
//             (--device cpu) and with the GPU (--device gpu: verification and hashing pinned to
//             it; --device auto: the scheduler decides), for uniform and Zipf-skewed accounts
//   executor  the parallel executor alone against the one-by-one reference on the same blocks,
//             uniform, Zipf and the heaviest contention (two accounts: every transfer conflicts)
//   verify    signature verification of the same transfers on every CPU core and on the GPU
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <unistd.h>
#include <thread>

#include "hetex/ledger/pipeline.hpp"
#include "hetex/ledger/stages.hpp"
#include "hetex/ledger/stm/executor.hpp"
#include "hetex/ledger/store.hpp"
#include "hetex/ledger/workload.hpp"
#include "hetex/core/file.hpp"
#include "ledger_cli.hpp"

namespace hetex::cli::ledger {

using namespace hetex::ledger;
using Clock = std::chrono::steady_clock;

namespace {

struct BenchArgs {
  std::size_t accounts = 1'000'000, txs = 1'000'000, block_size = 10'000;
  double zipf = 1.0;
  unsigned threads = 0;
  int repeats = 3;
  std::string sections = "e2e,executor,verify", json, dir;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<VerifiedTransfer> as_verified(const Workload& w) {
  std::vector<VerifiedTransfer> v(w.transfers.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = {w.transfers[i], w.intended[i] != TxStatus::bad_signature};
  return v;
}

Result<Workload> generate(const BenchArgs& a, std::size_t accounts, double zipf, const char* what) {
  const auto t = Clock::now();
  auto w = generate_workload({.accounts = accounts, .transactions = a.txs, .zipf = zipf, .invalid = 0.01, .seed = 42});
  if (w)
    std::fprintf(stderr, "  generated %s: %zu accounts, %zu transfers in %.1f s\n", what, accounts, a.txs,
                 seconds_since(t));
  return w;
}

// The executor (index, then execute + apply, block after block; each block on the path it
// measures cheapest) against apply_in_order; also each of its three paths forced, to show what the
// choice chose between.
struct ExecutorRun {
  double seconds = 1e300;     // best of the repeats
  stm::ExecutionStats stats;  // summed over the last repeat's blocks (so are the block counts)
  std::size_t scheduled_blocks = 0, parallel_blocks = 0, in_order_blocks = 0, probe_blocks = 0;
  AccountState final_state;
};

// One timed repetition of exec over every block, kept if it is the best so far.
Status run_executor(const Workload& w, std::span<const stm::BlockIndex<TransferProgram>> blocks,
                    stm::Executor<TransferProgram>& exec, ExecutorRun& out) {
  AccountState state(w.genesis);
  out.stats = {};
  out.scheduled_blocks = out.parallel_blocks = out.in_order_blocks = out.probe_blocks = 0;
  const auto t = Clock::now();
  for (const auto& idx : blocks) {
    auto r = HETEX_TRY(exec.execute(idx, state));
    state.apply(idx.slot_key, r.final_values, r.found);
    out.stats.executions += r.stats.executions;
    out.stats.transactions += r.stats.transactions;
    out.stats.aborts += r.stats.aborts;
    out.stats.dependencies += r.stats.dependencies;
    out.stats.validations += r.stats.validations;
    (r.stats.path == stm::Path::scheduled  ? out.scheduled_blocks
     : r.stats.path == stm::Path::parallel ? out.parallel_blocks
                                           : out.in_order_blocks) += 1;
    out.probe_blocks += r.stats.probe;
  }
  out.seconds = std::min(out.seconds, seconds_since(t));
  out.final_state = std::move(state);
  return {};
}

Result<nlohmann::json> bench_executor(const BenchArgs& a, const Workload& w, const char* name) {
  const auto txs = as_verified(w);
  const TransferProgram program;
  std::vector<stm::BlockIndex<TransferProgram>> blocks;
  auto t = Clock::now();
  for (std::size_t b = 0; b < txs.size(); b += a.block_size)
    blocks.push_back(
        HETEX_TRY(stm::index_block(program, std::span(txs).subspan(b, std::min(a.block_size, txs.size() - b)))));
  const double index_s = seconds_since(t);
  stm::Executor<TransferProgram> scheduled(program, {.threads = a.threads, .path = stm::Path::scheduled});
  stm::Executor<TransferProgram> parallel(program, {.threads = a.threads, .path = stm::Path::parallel});
  stm::Executor<TransferProgram> in_order(program, {.threads = a.threads, .path = stm::Path::in_order});
  stm::Executor<TransferProgram> executor(program, {.threads = a.threads});
  const auto* exec = &executor;
  ExecutorRun forced_scheduled, forced_parallel, forced_in_order, chosen;
  double best_serial = 1e300;
  AccountState final_serial;
  // Interleaved, so that whatever else the machine does falls on every contender alike.
  for (int rep = 0; rep < a.repeats; ++rep) {
    AccountState serial(w.genesis);
    t = Clock::now();
    for (std::size_t b = 0; b < txs.size(); b += a.block_size)
      (void)apply_in_order(serial, std::span(txs).subspan(b, std::min(a.block_size, txs.size() - b)));
    best_serial = std::min(best_serial, seconds_since(t));
    final_serial = std::move(serial);
    HETEX_TRY_VOID(run_executor(w, blocks, scheduled, forced_scheduled));
    HETEX_TRY_VOID(run_executor(w, blocks, parallel, forced_parallel));
    HETEX_TRY_VOID(run_executor(w, blocks, in_order, forced_in_order));
    HETEX_TRY_VOID(run_executor(w, blocks, executor, chosen));
  }
  for (const auto* run : {&forced_scheduled, &forced_parallel, &forced_in_order, &chosen})
    if (!(run->final_state == final_serial))
      return Error(Errc::internal,
                   std::string("executor benchmark ") + name + ": the executor's state differs from the reference");
  const double n = double(txs.size());
  const auto& s = chosen.stats;
  std::printf(
      "executor %-10s %u threads: executor %.3f s (%.0f tps), +index %.3f s (%.0f tps); sequential %.3f s "
      "(%.0f tps); speed-up %.2fx (%.2fx with the index); paths: %zu blocks scheduled, %zu parallel, %zu in order "
      "(%zu probes); %zu re-executions, %zu aborts, %zu waits; forced scheduled %.3f s (%.2fx), forced parallel "
      "%.3f s (%.2fx), forced in order %.3f s (%.2fx)\n",
      name, exec->threads(), chosen.seconds, n / chosen.seconds, index_s, n / (chosen.seconds + index_s), best_serial,
      n / best_serial, best_serial / chosen.seconds, best_serial / (chosen.seconds + index_s), chosen.scheduled_blocks,
      chosen.parallel_blocks, chosen.in_order_blocks, chosen.probe_blocks, s.reexecutions(), s.aborts, s.dependencies,
      forced_scheduled.seconds, best_serial / forced_scheduled.seconds, forced_parallel.seconds,
      best_serial / forced_parallel.seconds, forced_in_order.seconds, best_serial / forced_in_order.seconds);
  return nlohmann::json{{"workload", name},
                        {"threads", exec->threads()},
                        {"transactions", txs.size()},
                        {"executor_s", chosen.seconds},
                        {"index_s", index_s},
                        {"sequential_s", best_serial},
                        {"speedup", best_serial / chosen.seconds},
                        {"speedup_with_index", best_serial / (chosen.seconds + index_s)},
                        {"scheduled_blocks", chosen.scheduled_blocks},
                        {"parallel_blocks", chosen.parallel_blocks},
                        {"in_order_blocks", chosen.in_order_blocks},
                        {"probe_blocks", chosen.probe_blocks},
                        {"scheduled_s_per_tx", exec->path_choice().seconds_per_transaction(stm::Path::scheduled)},
                        {"parallel_s_per_tx", exec->path_choice().seconds_per_transaction(stm::Path::parallel)},
                        {"in_order_s_per_tx", exec->path_choice().seconds_per_transaction(stm::Path::in_order)},
                        {"reexecutions", s.reexecutions()},
                        {"aborts", s.aborts},
                        {"waits", s.dependencies},
                        {"validations", s.validations},
                        {"forced_scheduled_s", forced_scheduled.seconds},
                        {"forced_scheduled_waits", forced_scheduled.stats.dependencies},
                        {"forced_parallel_s", forced_parallel.seconds},
                        {"forced_parallel_reexecutions", forced_parallel.stats.reexecutions()},
                        {"forced_parallel_validations", forced_parallel.stats.validations},
                        {"forced_in_order_s", forced_in_order.seconds}};
}

Result<nlohmann::json> bench_verify(const BenchArgs& a, const Workload& w, bool has_gpu) {
  nlohmann::json out = nlohmann::json::array();
  std::vector<VerifiedTransfer> txs(w.transfers.size());
  for (std::size_t i = 0; i < txs.size(); ++i) txs[i].transfer = w.transfers[i];
  double cpu_rate = 0;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (const char* device : {"cpu", "gpu"}) {
    if (std::string(device) == "gpu" && !has_gpu) break;
    auto sched = HETEX_TRY(make_scheduler(device));
    HETEX_TRY(verify_signatures(*sched, std::span(txs).first(std::min<std::size_t>(txs.size(), 50'000))));  // warm-up
    double best = 1e300;
    for (int rep = 0; rep < a.repeats; ++rep) {
      const auto t = Clock::now();
      HETEX_TRY(verify_signatures(*sched, txs));
      best = std::min(best, seconds_since(t));
    }
    const double rate = double(txs.size()) / best;
    if (std::string(device) == "cpu") cpu_rate = rate;
    std::printf("verify   %-4s %zu signatures in %.3f s: %.0f /s", device, txs.size(), best, rate);
    if (std::string(device) == "gpu" && cpu_rate > 0)
      std::printf(" = %.1f CPU cores' worth (%u cores verify %.0f /s, %.0f /s each)", rate / (cpu_rate / cores), cores,
                  cpu_rate, cpu_rate / cores);
    std::printf("\n");
    out.push_back({{"device", device}, {"signatures", txs.size()}, {"seconds", best}, {"per_second", rate}});
  }
  return out;
}

Result<nlohmann::json> bench_e2e(const BenchArgs& a, const Workload& w, const char* name, bool has_gpu,
                                 const std::filesystem::path& dir) {
  nlohmann::json out = nlohmann::json::array();
  const auto input = dir / (std::string(name) + ".txt");
  HETEX_TRY_VOID(write_file_atomic(input, [&](std::FILE* f) -> Status {
    for (const auto& t : w.transfers) std::fprintf(f, "%s\n", format_transfer(t).c_str());
    return {};
  }));
  double cpu_tps = 0;
  for (const char* device : {"cpu", "gpu", "auto"}) {
    if (std::string(device) != "cpu" && !has_gpu) break;
    const auto db = dir / (std::string(name) + "-" + device + ".db");
    std::filesystem::remove_all(db);
    auto sched = HETEX_TRY(make_scheduler(device));
    auto store = HETEX_TRY(Store::open(db, w.genesis, a.block_size));
    auto state = HETEX_TRY(store->load_accounts());
    auto r = HETEX_TRY(run_pipeline(*sched, input, state, store->tip(), *store,
                                    {.block_size = a.block_size, .executor_threads = a.threads}));
    const double tps = double(r.transactions) / r.seconds;
    if (std::string(device) == "cpu") cpu_tps = tps;
    std::printf("e2e      %-10s --device %-4s %zu transactions in %.3f s: %.0f tps", name, device, r.transactions,
                r.seconds, tps);
    if (std::string(device) != "cpu" && cpu_tps > 0) std::printf(" (%.2fx the CPU-only run)", tps / cpu_tps);
    std::printf("; stages busy:");
    for (std::size_t i = 0; i < kStages; ++i)
      std::printf(" %s %.2f", std::string(to_string(static_cast<Stage>(i))).c_str(), r.stage_seconds[i]);
    std::printf(" s; execute: %zu blocks parallel, %zu in order\n", r.blocks - r.sequential_blocks,
                r.sequential_blocks);
    nlohmann::json stages;
    for (std::size_t i = 0; i < kStages; ++i)
      stages[std::string(to_string(static_cast<Stage>(i)))] = r.stage_seconds[i];
    out.push_back({{"workload", name},
                   {"device", device},
                   {"transactions", r.transactions},
                   {"seconds", r.seconds},
                   {"tps", tps},
                   {"stage_busy_s", stages},
                   {"parallel_blocks", r.blocks - r.sequential_blocks},
                   {"in_order_blocks", r.sequential_blocks},
                   {"device_items", r.device_items}});
    store.reset();
    std::filesystem::remove_all(db);
  }
  std::filesystem::remove(input);
  return out;
}

Status bench(const BenchArgs& a) {
  if (a.block_size == 0 || a.txs == 0 || a.accounts == 0)
    return Error(Errc::invalid_argument, "sizes must be positive");
  auto rt = HETEX_TRY(Runtime::create());
  const bool has_gpu = rt.has_gpu();
  const auto want = [&](const char* s) { return a.sections.find(s) != std::string::npos; };
  std::printf("hetex ledger bench: %zu accounts, %zu transfers, blocks of %zu, %u hardware threads, %s\n", a.accounts,
              a.txs, a.block_size, std::max(1u, std::thread::hardware_concurrency()),
              has_gpu ? rt.gpus().front().describe().c_str() : "no GPU (CPU figures only)");
  nlohmann::json results;
  const auto uniform = HETEX_TRY(generate(a, a.accounts, 0, "uniform"));
  const auto zipf = HETEX_TRY(generate(a, a.accounts, a.zipf, "zipf"));
  if (want("executor")) {
    const auto hot = HETEX_TRY(generate(a, 2, 0, "two accounts"));
    for (const auto& [w, name] :
         {std::pair{&uniform, "uniform"}, std::pair{&zipf, "zipf"}, std::pair{&hot, "two-accounts"}})
      results["executor"].push_back(HETEX_TRY(bench_executor(a, *w, name)));
  }
  if (want("verify")) results["verify"] = HETEX_TRY(bench_verify(a, uniform, has_gpu));
  if (want("e2e")) {
    if (!store_available()) return Store::open(a.dir, {}, 1).error();
    std::filesystem::path dir =
        a.dir.empty() ? std::filesystem::temp_directory_path() / ("hetex-ledger-bench-" + std::to_string(::getpid()))
                      : std::filesystem::path(a.dir);
    std::filesystem::create_directories(dir);
    for (const auto& [w, name] : {std::pair{&uniform, "uniform"}, std::pair{&zipf, "zipf"}})
      for (auto& row : HETEX_TRY(bench_e2e(a, *w, name, has_gpu, dir))) results["e2e"].push_back(row);
    if (a.dir.empty()) std::filesystem::remove_all(dir);
  }
  if (!a.json.empty()) {
    HETEX_TRY_VOID(write_file_atomic(a.json, results.dump(2) + "\n"));
  }
  return {};
}

}  // namespace

void add_bench(CLI::App& ledger, int& status) {
  auto* cmd = ledger.add_subcommand("bench", "Measure the ledger: end to end, the executor, verification");
  auto a = std::make_shared<BenchArgs>();
  cmd->add_option("--accounts", a->accounts, "Accounts in the generated genesis")->capture_default_str();
  cmd->add_option("--txs", a->txs, "Transfers per workload")->capture_default_str();
  cmd->add_option("--block-size", a->block_size, "Transactions per block")->capture_default_str();
  cmd->add_option("--zipf", a->zipf, "Skew of the Zipf workload")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Executor threads (0: every hardware thread)")->capture_default_str();
  cmd->add_option("--repeats", a->repeats, "Timed repetitions of the executor and verification figures (best kept)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--sections", a->sections, "Which figures: any of e2e, executor, verify")->capture_default_str();
  cmd->add_option("--dir", a->dir, "Where the end-to-end files and databases go (default: a temporary directory)");
  cmd->add_option("--json", a->json, "Also write the figures as JSON");
  cmd->footer(
      "Example (the GPU host, 16 cores):\n  hetex ledger bench --accounts 1000000 --txs 1000000 --json ledger.json");
  cmd->callback([a, &status] {
    if (auto st = bench(*a); !st) {
      std::fprintf(stderr, "hetex ledger bench: %s\n", st.error().message().c_str());
      status = 2;
    }
  });
}

}  // namespace hetex::cli::ledger
