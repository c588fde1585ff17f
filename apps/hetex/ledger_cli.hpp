// SPDX-License-Identifier: MIT
#pragma once
// `hetex ledger` and its subcommands (ledger*.cpp): gen, run, state, bench.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include "commands.hpp"
#include "hetex/core/error.hpp"

namespace hetex::cli::ledger {

void add_gen(CLI::App& ledger, int& status);
void add_run(CLI::App& ledger, Common& common, int& status);
void add_state(CLI::App& ledger, int& status);
void add_bench(CLI::App& ledger, int& status);

}  // namespace hetex::cli::ledger
