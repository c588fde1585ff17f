// SPDX-License-Identifier: MIT
#pragma once
// What a Comm holds, and the point-to-point messages of the engine. Internal: includes mpi.h.
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hetex/dist/comm.hpp"

namespace hetex::dist {

struct Comm::State {
  bool mpi = false;
  bool owns_mpi = false;  // this process's MPI was initialised by hetex: finalise at the end
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  std::vector<std::string> hosts;
  bool cuda_aware = false;
  std::string library = "none";
  ~State();
};

namespace detail {
// "MPI_ERR_...: message" for an MPI return code.
Error mpi_error(int rc, const std::string& what);
}  // namespace detail

}  // namespace hetex::dist
