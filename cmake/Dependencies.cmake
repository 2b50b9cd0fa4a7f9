# Every dependency comes from a Debian 12 package (see Makefile: deps).
find_package(absl CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(Threads REQUIRED)
# Highway: SIMD kernels with runtime dispatch (foreach_target + HWY_DYNAMIC_DISPATCH).
find_package(hwy CONFIG REQUIRED)
if(ACCLLM_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  include(GoogleTest)
endif()
if(ACCLLM_KERNELS_ONLY)
  return()  # the kernels and their tests need nothing below
endif()
find_package(PkgConfig REQUIRED)

# SentencePiece ships a .pc file but no CMake config.
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
find_library(SENTENCEPIECE_TRAIN_LIB sentencepiece_train REQUIRED)

# Metrics: prometheus-cpp (core registry + pull exposer serving /metrics over HTTP).
find_package(prometheus-cpp CONFIG REQUIRED)

# XRT (FPGA workers). xrt.pc is broken in Debian 12, so find the header and
# library directly. Without it the worker builds CPU-only.
set(ACCLLM_WITH_XRT "AUTO" CACHE STRING "Build the FPGA (XRT) device probe: AUTO, ON or OFF")
if(NOT ACCLLM_WITH_XRT STREQUAL "OFF")
  find_path(XRT_INCLUDE_DIR xrt/xrt_device.h PATH_SUFFIXES xrt)
  find_library(XRT_COREUTIL_LIB xrt_coreutil)
  if(XRT_INCLUDE_DIR AND XRT_COREUTIL_LIB)
    add_library(accllm_xrt INTERFACE)
    target_include_directories(accllm_xrt INTERFACE ${XRT_INCLUDE_DIR})
    target_link_libraries(accllm_xrt INTERFACE ${XRT_COREUTIL_LIB})
    set(ACCLLM_HAVE_XRT ON)
  elseif(ACCLLM_WITH_XRT STREQUAL "ON")
    message(FATAL_ERROR "ACCLLM_WITH_XRT=ON but xrt/xrt_device.h or libxrt_coreutil was not found")
  endif()
endif()

# The wire contract and the daemons: Protobuf + gRPC (global so every folder sees the targets).
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
