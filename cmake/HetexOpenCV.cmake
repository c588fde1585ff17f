# SPDX-License-Identifier: MIT
# OpenCV (core + imgproc) as a comparator for the image tests and benchmarks; never a dependency
# of the library. Debian's libopencv-imgproc-dev ships no CMake package, so the headers and
# libraries are found directly. Defines the target hetex_opencv (with HETEX_HAVE_OPENCV=1) when found.
find_path(HETEX_OPENCV_INCLUDE opencv2/imgproc.hpp PATH_SUFFIXES opencv4)
find_library(HETEX_OPENCV_CORE opencv_core)
find_library(HETEX_OPENCV_IMGPROC opencv_imgproc)
if(HETEX_OPENCV_INCLUDE AND HETEX_OPENCV_CORE AND HETEX_OPENCV_IMGPROC)
  add_library(hetex_opencv INTERFACE)
  target_include_directories(hetex_opencv SYSTEM INTERFACE ${HETEX_OPENCV_INCLUDE})
  target_link_libraries(hetex_opencv INTERFACE ${HETEX_OPENCV_IMGPROC} ${HETEX_OPENCV_CORE})
  target_compile_definitions(hetex_opencv INTERFACE HETEX_HAVE_OPENCV=1)
  message(STATUS "hetex: OpenCV comparator found (${HETEX_OPENCV_INCLUDE})")
else()
  message(STATUS "hetex: OpenCV not found; image comparisons against OpenCV are skipped")
endif()
