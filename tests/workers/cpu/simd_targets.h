// Which Highway targets the CPU kernel tests must cover on this machine.
//
// The kernel tests run each kernel once per target in hwy::SupportedAndGeneratedTargets(). When a
// target drops out of that list (HWY_WANT_AVX3_DL no longer reaching the build, a Highway upgrade
// renaming a target, detection failing under an emulator) the loops just run fewer times and
// every test still passes. These helpers work out what the CPU offers without asking Highway
// (cpuid through __builtin_cpu_supports on x86; the auxiliary vector and the SVE vector length
// on aarch64) and fail the test when a target the CPU has and the build generates is not tested.
#ifndef ACCLLM_TESTS_WORKERS_CPU_SIMD_TARGETS_H_
#define ACCLLM_TESTS_WORKERS_CPU_SIMD_TARGETS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace accllm::testing {

// The targets the kernels must be tested on here, best first, given what workers/cpu/
// CMakeLists.txt generates:
//   x86-64:  AVX2 always (the CPU backend's floor: its tuned paths are AVX2 and AVX-512);
//            AVX3 when the CPU has AVX-512 F/VL/DQ/BW/CD; AVX3_DL (compiled because the build
//            defines HWY_WANT_AVX3_DL) when it also has VNNI and the rest of Ice Lake's
//            AVX-512; AVX3_ZEN4 on AMD where the Highway in use has and generates that target.
//   aarch64: NEON always (with AES, as Highway requires); SVE and SVE2 when HWCAP/HWCAP2 list
//            them; SVE_256 when SVE vectors are 256 bits and SVE2_128 when SVE2 vectors are 128.
//            Highway generates the SVE targets only when it can dispatch at runtime, i.e. with
//            GCC (cmake/toolchains/aarch64-linux-gnu.cmake); a build without them fails here.
// Elsewhere: nothing (no expectation).
std::vector<int64_t> RequiredSimdTargets();

// hwy::SupportedAndGeneratedTargets() for the CPU itself (any SetSupportedTargetsForTest mock is
// cleared first), after recording a test failure naming each RequiredSimdTargets() entry it
// lacks. Kernel tests loop over this instead of calling Highway directly.
std::vector<int64_t> SimdTargetsToTest();

// "AVX3_DL AVX3 AVX2", for messages.
std::string SimdTargetNames(const std::vector<int64_t>& targets);

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_WORKERS_CPU_SIMD_TARGETS_H_
