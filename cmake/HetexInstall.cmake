# SPDX-License-Identifier: MIT
# Install rules: headers, the library, the `hetex` command, a CMake package
# (find_package(hetex CONFIG) -> hetex::hetex) and a pkg-config file (hetex.pc).
#
# The library is static unless BUILD_SHARED_LIBS is on. A static libhetex does not carry its
# private dependencies (OpenSSL, libsodium, cpp-httplib, NVRTC), so the exported target lists
# them as link-only and hetex-config.cmake finds them; a shared one needs only its public
# dependencies (TBB, Threads, and the CUDA runtime when built with CUDA).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(HETEX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hetex)
get_target_property(HETEX_LIBRARY_TYPE hetex TYPE)

# 0.x: the ABI may change with every minor version.
set_target_properties(hetex PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
install(TARGETS hetex EXPORT hetex-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/hetex DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The command finds a shared libhetex next to it, wherever the tree is installed.
set_target_properties(hetex-cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
install(TARGETS hetex-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(EXPORT hetex-targets NAMESPACE hetex:: FILE hetex-targets.cmake DESTINATION ${HETEX_CMAKE_DIR})
# Where the build found the CUDA toolkit: a hint for consumers who have not said where theirs is.
set(HETEX_CUDA_ROOT_HINT "")
if(HETEX_WITH_CUDA)
  get_filename_component(HETEX_CUDA_ROOT_HINT "${CUDAToolkit_BIN_DIR}" DIRECTORY)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/hetex-config.cmake.in
  ${PROJECT_BINARY_DIR}/hetex-config.cmake INSTALL_DESTINATION ${HETEX_CMAKE_DIR})
# 0.x: minor versions may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/hetex-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/hetex-config.cmake ${PROJECT_BINARY_DIR}/hetex-config-version.cmake
  DESTINATION ${HETEX_CMAKE_DIR})

# pkg-config: the prefix is found from the .pc file's own place, so `cmake --install --prefix`
# anywhere works. For a static library the private dependencies go into Requires/Libs (there is
# no shared library to carry them), so `pkg-config --libs hetex` links either way.
file(RELATIVE_PATH HETEX_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" HETEX_PC_TO_PREFIX "${HETEX_PC_TO_PREFIX}")
set(HETEX_PC_REQUIRES "tbb")
set(HETEX_PC_REQUIRES_PRIVATE "libcrypto libsodium cpp-httplib")
set(HETEX_PC_LIBS "-L\${libdir} -lhetex -pthread")
set(HETEX_PC_LIBS_PRIVATE "")
set(HETEX_PC_CFLAGS "-I\${includedir}")
if(HETEX_WITH_CUDA)
  string(APPEND HETEX_PC_CFLAGS " -DHETEX_WITH_CUDA=1")
  string(APPEND HETEX_PC_LIBS " -L${CUDAToolkit_LIBRARY_DIR} -lcudart")
  set(HETEX_PC_LIBS_PRIVATE "-L${CUDAToolkit_LIBRARY_DIR} -lnvrtc")
endif()
if(HETEX_WITH_VULKAN)
  # The Vulkan loader, and glslang's static libraries for run-time GLSL.
  string(APPEND HETEX_PC_CFLAGS " -DHETEX_WITH_VULKAN=1")
  string(APPEND HETEX_PC_REQUIRES_PRIVATE " vulkan")
  list(JOIN HETEX_GLSLANG_LIBS " -l" _hetex_glslang)
  string(APPEND HETEX_PC_LIBS_PRIVATE " -l${_hetex_glslang}")
endif()
if(HETEX_LIBRARY_TYPE STREQUAL "STATIC_LIBRARY")
  string(APPEND HETEX_PC_REQUIRES " ${HETEX_PC_REQUIRES_PRIVATE}")
  set(HETEX_PC_REQUIRES_PRIVATE "")
  if(HETEX_PC_LIBS_PRIVATE)
    string(APPEND HETEX_PC_LIBS " ${HETEX_PC_LIBS_PRIVATE}")
    set(HETEX_PC_LIBS_PRIVATE "")
  endif()
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/hetex.pc.in ${PROJECT_BINARY_DIR}/hetex.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/hetex.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
