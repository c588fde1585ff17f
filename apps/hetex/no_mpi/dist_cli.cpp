// SPDX-License-Identifier: MIT
// A build without MPI: no distributed paths, no --journal (hetex::dist is not built).
#include "dist_cli.hpp"

namespace hetex::cli {

bool under_mpi() { return false; }
void add_dist_options(CLI::App&, DistArgs&, bool) {}
bool use_dist(const DistArgs&) { return false; }
int dist_sha256(const std::vector<std::string>&, const Common&, const DistArgs&) { return 2; }
int dist_verify(const std::string&, const Common&, const DistArgs&) { return 2; }
int dist_image(const DistImage&, const Common&, const DistArgs&) { return 2; }
int dist_devices(bool, bool) { return 2; }

}  // namespace hetex::cli
