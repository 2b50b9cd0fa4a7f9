# Cross build for 64-bit Arm (NEON, SVE, SVE2 Highway targets) with Debian's cross compiler
# and arm64 multiarch packages; the tests run under qemu-aarch64 in user mode, whose CPU
# (QEMU_CPU=max, with sve-default-vector-length=16 or 32) chooses which of Highway's NEON,
# SVE, SVE2, SVE_256 and SVE2_128 targets they see. Used by `make test-aarch64`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Debian multiarch: packages' CMake configs and libraries live under lib/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
