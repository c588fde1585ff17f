// SPDX-License-Identifier: MIT
// Runs the dist tests as one job: every rank runs every test, in the same order. Under a launcher
// (mpirun -n N) the ranks are MPI ranks; started by hand, the process is one rank without MPI.
// Rank 0 prints gtest's usual report; the other ranks print only their failures, marked with
// their rank. The process fails when any test fails on it, so mpirun fails when any rank does.
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>

#include "dist_test.hpp"

namespace hetex::dist {
namespace {
std::optional<Comm> g_comm;

class RankFailures : public testing::EmptyTestEventListener {
 public:
  explicit RankFailures(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_, r.file_name() ? r.file_name() : "?",
                   r.line_number(), r.summary());
  }

 private:
  int rank_;
};
}  // namespace

const Comm& comm() { return *g_comm; }
}  // namespace hetex::dist

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  using hetex::dist::Comm;
  if (Comm::launched_by_mpi()) {
    auto c = Comm::init(&argc, &argv);
    if (!c) {
      std::fprintf(stderr, "test_dist: %s\n", c.error().describe().c_str());
      return 1;
    }
    hetex::dist::g_comm.emplace(std::move(*c));
  } else {
    hetex::dist::g_comm.emplace(Comm::local());
  }
  const int rank = hetex::dist::g_comm->rank();
  if (rank != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new hetex::dist::RankFailures(rank));
  }
  const int rc = RUN_ALL_TESTS();
  hetex::dist::g_comm.reset();  // finalises MPI
  return rc;
}
