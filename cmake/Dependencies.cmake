# Every dependency comes from a Debian 12 package (see Makefile: deps).
find_package(absl CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(Threads REQUIRED)
# Highway: SIMD kernels with runtime dispatch (foreach_target + HWY_DYNAMIC_DISPATCH).
find_package(hwy CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)

# SentencePiece ships a .pc file but no CMake config.
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
find_library(SENTENCEPIECE_TRAIN_LIB sentencepiece_train REQUIRED)

if(ACCLLM_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  include(GoogleTest)
endif()
