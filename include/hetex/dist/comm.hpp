// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The ranks of one job: a communicator, with each rank's host, and the few collectives the
/// distributed jobs need at their start. No MPI header is needed to use it.
///
/// @code
/// auto comm = hetex::dist::Comm::init(&argc, &argv).value();   // MPI_Init_thread, once
/// if (comm.is_root()) ...;                                       // rank 0 reads and writes
/// @endcode
///
/// Comm::local() is a job of one rank that never touches MPI (a single process that still wants
/// the journal). Every MPI call of hetex::dist is made by the thread that created the Comm
/// (MPI_THREAD_FUNNELED is all it asks for); the chunks themselves run on other threads.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::dist {

/// The ranks of one job (see the file's description). A cheap, copyable handle; the collectives
/// are called by every rank in the same order, from one thread per rank.
class Comm {
 public:
  /// Initialises MPI (or adopts it, when the program already did) and duplicates MPI_COMM_WORLD,
  /// so that hetex's messages never meet the program's. MPI is finalised when the last copy of
  /// a Comm that initialised it dies. Errc::unavailable when the MPI library cannot start.
  static Result<Comm> init(int* argc = nullptr, char*** argv = nullptr);
  /// One rank (rank 0 of 1) without MPI.
  static Comm local();
  /// True when a launcher (mpirun, mpiexec, srun) started this process as a rank of a job: the
  /// environment has the launcher's rank variables. A process started by hand is not a rank.
  static bool launched_by_mpi() noexcept;

  int rank() const noexcept;                             ///< this process's rank, 0 to size() - 1
  int size() const noexcept;                             ///< the number of ranks
  bool is_root() const noexcept { return rank() == 0; }  ///< rank 0, which holds the input and the results
  bool uses_mpi() const noexcept;                        ///< false for Comm::local()
  /// The processor name of each rank (MPI_Get_processor_name), gathered at init.
  const std::string& host(int rank) const;
  const std::vector<std::string>& hosts() const noexcept;  ///< every rank's, in rank order
  /// "rank 2 (host node7)"
  std::string describe(int rank) const;
  /// Whether the MPI library can send from and receive into GPU memory, asked at run time
  /// (MPIX_Query_cuda_support where the library has it; false otherwise). Debian's Open MPI
  /// says no, and hetex::dist then moves data through host buffers only.
  bool cuda_aware() const noexcept;
  /// The MPI library's version line ("Open MPI v4.1.4, ..."); "none" without MPI.
  const std::string& library() const noexcept;

  /// Collectives of the set-up phase (every rank must call them, in the same order).
  /// Rank 0 receives every rank's string, in rank order; the others an empty vector.
  Result<std::vector<std::string>> gather(const std::string& mine) const;
  /// Rank 0's value, on every rank.
  Result<std::string> broadcast(const std::string& from_root) const;
  /// True on every rank when `mine` is true on every rank.
  Result<bool> all(bool mine) const;
  Status barrier() const;  ///< returns once every rank has called it

  /// Ends the whole job at once (MPI_Abort on every rank); without MPI, exits the process.
  [[noreturn]] void abort(int exit_code) const;

  struct State;
  const State& state() const noexcept { return *state_; }  ///< for hetex's own layers

 private:
  explicit Comm(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace hetex::dist
