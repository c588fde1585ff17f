// SPDX-License-Identifier: MIT
#pragma once
// The commands across the ranks of an MPI job (hetex::dist): `mpirun -n N hetex verify ...` gives
// the output of `hetex verify ...`, from every rank's CPU and GPUs. A command file adds its
// options with add_dist_options() and hands over to its dist_* function when use_dist() says so;
// everything else lives in apps/hetex/dist/ (apps/hetex/no_mpi/ in a build without MPI).
//
// Exit status 3: the job stopped before every input was processed (a rank died or hung, or the
// launcher stopped it); the output written is complete as far as it goes, and --journal resumes.
// A journal of another job is bad usage (2).

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "commands.hpp"
#include "hetex/ops/image.hpp"

namespace hetex::cli {

struct DistArgs {
  std::string journal;         // --journal FILE: record finished chunks; resume from them
  std::string output;          // --output FILE: rank 0 writes the output there itself
  std::string trace;           // --trace FILE: Chrome trace, a row per rank and device
  double rank_timeout = 60;    // --rank-timeout SECONDS: a rank silent this long has hung
  double chunk_seconds = 0.5;  // --chunk-seconds: target run time of a chunk
};

// True when a launcher (mpirun, srun) started this process as a rank of a job.
bool under_mpi();
// Registers the options above (none in a build without MPI); --output where the command prints
// its results (`text_output`).
void add_dist_options(CLI::App& cmd, DistArgs& args, bool text_output);
// True when a command takes the distributed path: this process is a rank of an MPI job, or a
// journal or an output file was asked for.
bool use_dist(const DistArgs& args);

int dist_sha256(const std::vector<std::string>& files, const Common& common, const DistArgs& args);
int dist_verify(const std::string& input, const Common& common, const DistArgs& args);
struct DistImage {
  std::string in, out;  // files, or directories with batch
  bool batch = false;
  image::Pipeline pipeline;
  int quality = 95;
  bool progress = false;
};
int dist_image(const DistImage& image, const Common& common, const DistArgs& args);
// `hetex devices` as a rank of an MPI job: rank 0 prints every rank's devices, rank by rank.
int dist_devices(bool json, bool skip_bandwidth);

}  // namespace hetex::cli
