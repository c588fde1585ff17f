# SPDX-License-Identifier: MIT
# MPI for hetex::dist: HETEX_MPI=AUTO builds it when an MPI library (with its launcher) is found,
# ON requires one, OFF never builds it. Sets HETEX_WITH_MPI and, for the tests, HETEX_MPIEXEC.
set(HETEX_MPI AUTO CACHE STRING "Build hetex::dist (MPI): AUTO (when MPI is found), ON or OFF")
set_property(CACHE HETEX_MPI PROPERTY STRINGS AUTO ON OFF)
set(HETEX_WITH_MPI OFF)
if(NOT HETEX_MPI STREQUAL "OFF")
  # MPI's C API from C++ (the project has no C language); its deprecated C++ bindings stay out.
  set(MPI_CXX_SKIP_MPICXX ON)
  if(HETEX_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
  else()
    find_package(MPI QUIET COMPONENTS CXX)
  endif()
  if(MPI_CXX_FOUND)
    set(HETEX_WITH_MPI ON)
    set(HETEX_MPIEXEC "${MPIEXEC_EXECUTABLE}")
    message(STATUS "hetex: MPI ${MPI_CXX_VERSION} found; building hetex::dist (launcher: ${MPIEXEC_EXECUTABLE})")
  else()
    message(STATUS "hetex: no MPI found; hetex::dist, its CLI paths and its tests are not built")
  endif()
endif()
