// SPDX-License-Identifier: MIT
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <limits>

#include "dist/state.hpp"
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif

namespace hetex::dist {

namespace detail {
Error mpi_error(int rc, const std::string& what) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  return Error(Errc::unavailable, what + ": " + (len ? std::string(text, len) : "MPI error " + std::to_string(rc)));
}
}  // namespace detail

namespace {

#define HETEX_MPI_CHECK(call, what)                                                      \
  do {                                                                                   \
    if (const int rc_ = (call); rc_ != MPI_SUCCESS) return detail::mpi_error(rc_, what); \
  } while (0)

bool cuda_aware_now() {
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
  return MPIX_Query_cuda_support() == 1;
#elif defined(MPIX_CUDA_AWARE_SUPPORT)
  // Built against a library without CUDA support; a CUDA-aware one loaded at run time (the same
  // soname) still answers the query truthfully.
  return MPIX_Query_cuda_support() == 1;
#else
  return false;
#endif
}

}  // namespace

Comm::State::~State() {
  if (!mpi) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  if (owns_mpi) MPI_Finalize();
}

bool Comm::launched_by_mpi() noexcept {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"})
    if (const char* s = std::getenv(v); s && *s) return true;
  return false;
}

Comm Comm::local() {
  auto s = std::make_shared<State>();
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) std::strcpy(name, "localhost");
  s->hosts = {name};
  return Comm(std::move(s));
}

Result<Comm> Comm::init(int* argc, char*** argv) {
  auto s = std::make_shared<State>();
  s->mpi = true;
  int initialized = 0;
  HETEX_MPI_CHECK(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    int provided = 0;
    HETEX_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    s->owns_mpi = true;
    if (provided < MPI_THREAD_FUNNELED)
      return Error(Errc::unavailable, "the MPI library gives no MPI_THREAD_FUNNELED support, which hetex::dist needs");
  }
  HETEX_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &s->comm), "MPI_Comm_dup");
  // Errors come back as codes: a peer that vanished is reported, not a reason to abort here.
  HETEX_MPI_CHECK(MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  HETEX_MPI_CHECK(MPI_Comm_rank(s->comm, &s->rank), "MPI_Comm_rank");
  HETEX_MPI_CHECK(MPI_Comm_size(s->comm, &s->size), "MPI_Comm_size");

  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  HETEX_MPI_CHECK(MPI_Get_processor_name(name, &len), "MPI_Get_processor_name");
  std::vector<char> all(static_cast<std::size_t>(s->size) * MPI_MAX_PROCESSOR_NAME);
  HETEX_MPI_CHECK(
      MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, s->comm),
      "gathering host names");
  for (int r = 0; r < s->size; ++r) {
    const char* p = all.data() + static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME;
    s->hosts.emplace_back(p, strnlen(p, MPI_MAX_PROCESSOR_NAME));
  }
  char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  if (MPI_Get_library_version(version, &len) == MPI_SUCCESS) {
    std::string v(version, strnlen(version, sizeof version));
    s->library = v.substr(0, v.find_first_of("\r\n"));
    while (!s->library.empty() && (s->library.back() == ',' || s->library.back() == ' ')) s->library.pop_back();
  }
  s->cuda_aware = cuda_aware_now();
  return Comm(std::move(s));
}

int Comm::rank() const noexcept { return state_->rank; }
int Comm::size() const noexcept { return state_->size; }
bool Comm::uses_mpi() const noexcept { return state_->mpi; }
const std::string& Comm::host(int rank) const { return state_->hosts.at(static_cast<std::size_t>(rank)); }
const std::vector<std::string>& Comm::hosts() const noexcept { return state_->hosts; }
std::string Comm::describe(int rank) const { return "rank " + std::to_string(rank) + " (host " + host(rank) + ")"; }
bool Comm::cuda_aware() const noexcept { return state_->cuda_aware; }
const std::string& Comm::library() const noexcept { return state_->library; }

Result<std::vector<std::string>> Comm::gather(const std::string& mine) const {
  if (!state_->mpi) return std::vector<std::string>{mine};
  if (mine.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return Error(Errc::invalid_argument, "Comm::gather: a string over 2 GiB");
  const int len = static_cast<int>(mine.size());
  std::vector<int> lens(is_root() ? state_->size : 0), offsets;
  HETEX_MPI_CHECK(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, state_->comm), "gathering lengths");
  std::string all;
  if (is_root()) {
    long long total = 0;
    for (int l : lens) {
      offsets.push_back(static_cast<int>(total));
      total += l;
    }
    if (total > std::numeric_limits<int>::max())
      return Error(Errc::invalid_argument, "Comm::gather: over 2 GiB in all");
    all.resize(static_cast<std::size_t>(total));
  }
  HETEX_MPI_CHECK(
      MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, 0, state_->comm),
      "gathering strings");
  std::vector<std::string> out;
  for (std::size_t r = 0; r < lens.size(); ++r) out.push_back(all.substr(offsets[r], lens[r]));
  return out;
}

Result<std::string> Comm::broadcast(const std::string& from_root) const {
  if (!state_->mpi) return from_root;
  unsigned long long len = from_root.size();
  HETEX_MPI_CHECK(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, state_->comm), "broadcasting a length");
  if (len > static_cast<unsigned long long>(std::numeric_limits<int>::max()))
    return Error(Errc::invalid_argument, "Comm::broadcast: a string over 2 GiB");
  std::string v = is_root() ? from_root : std::string(len, '\0');
  HETEX_MPI_CHECK(MPI_Bcast(v.data(), static_cast<int>(len), MPI_CHAR, 0, state_->comm), "broadcasting a string");
  return v;
}

Result<bool> Comm::all(bool mine) const {
  if (!state_->mpi) return mine;
  int in = mine ? 1 : 0, out = 0;
  HETEX_MPI_CHECK(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LAND, state_->comm), "agreeing across ranks");
  return out != 0;
}

Status Comm::barrier() const {
  if (!state_->mpi) return {};
  HETEX_MPI_CHECK(MPI_Barrier(state_->comm), "MPI_Barrier");
  return {};
}

void Comm::abort(int exit_code) const {
  if (state_->mpi) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
  }
  std::_Exit(exit_code);
}

}  // namespace hetex::dist
