# SPDX-License-Identifier: MIT
# RocksDB (Debian's librocksdb-dev), where the ledger commits its blocks. HETEX_ROCKSDB: AUTO uses
# it when pkg-config finds it, ON requires it, OFF leaves it out. Without it the ledger library
# still builds (parsing, verification, hashing, the parallel executor, the pipeline), but its
# RocksDB store answers Errc::unavailable, so `hetex ledger run` and `hetex ledger state` say
# that the build has no RocksDB. Sets HETEX_WITH_ROCKSDB and the target PkgConfig::ROCKSDB.
set(HETEX_ROCKSDB AUTO CACHE STRING "Build the ledger's RocksDB store: AUTO (when found), ON or OFF")
set_property(CACHE HETEX_ROCKSDB PROPERTY STRINGS AUTO ON OFF)
set(HETEX_WITH_ROCKSDB OFF)
if(NOT HETEX_ROCKSDB STREQUAL "OFF")
  pkg_check_modules(ROCKSDB QUIET IMPORTED_TARGET rocksdb)
  if(TARGET PkgConfig::ROCKSDB)
    set(HETEX_WITH_ROCKSDB ON)
    message(STATUS "hetex: RocksDB ${ROCKSDB_VERSION} found; the ledger commits to it")
  elseif(HETEX_ROCKSDB STREQUAL "ON")
    message(FATAL_ERROR "HETEX_ROCKSDB=ON but pkg-config cannot find rocksdb (Debian: apt install librocksdb-dev)")
  else()
    message(STATUS "hetex: RocksDB not found (librocksdb-dev); `hetex ledger run` and `state` are unavailable")
  endif()
endif()
