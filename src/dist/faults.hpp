// SPDX-License-Identifier: MIT
#pragma once
// Faults a test injects into the ranks of a job, from HETEX_DIST_FAULTS (a comma-separated list):
//   kill=R@K    rank R kills itself (SIGKILL) when its K-th chunk arrives
//   hang=R@K    rank R stops dead (no messages, no work) when its K-th chunk arrives
//   speed=R:F   rank R runs at F times its speed (0 < F <= 1): each chunk is held 1/F as long
// Every rank reads the same variable, so one setting describes the whole job.
#include <string>
#include <string_view>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::dist::detail {

struct RankFaults {
  int kill_at = 0;  // 0: never
  int hang_at = 0;
  double speed = 1;
};

// The faults of `rank`; an error naming the variable when it is malformed.
Result<RankFaults> faults_for(int rank);
Result<RankFaults> parse_faults(std::string_view spec, int rank);

}  // namespace hetex::dist::detail
