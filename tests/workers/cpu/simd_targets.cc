#include "tests/workers/cpu/simd_targets.h"

#include <gtest/gtest.h>  // ADD_FAILURE

#include <algorithm>  // std::find, std::sort

#include "hwy/targets.h"  // hwy::SupportedAndGeneratedTargets, hwy::TargetName, HWY_* target bits

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>  // HWCAP_*, HWCAP2_*
#include <sys/auxv.h>   // getauxval, AT_HWCAP, AT_HWCAP2
#include <sys/prctl.h>  // prctl, PR_SVE_GET_VL
#endif

namespace accllm::testing {
namespace {

#if defined(__x86_64__)

// The feature groups mirror what Highway's own detection asks of each target (cpuid bits plus
// the OS saving the AVX/AVX-512 registers, which __builtin_cpu_supports also checks), so a CPU
// that has them and a target missing from the tested list is a real gap, not a disagreement.
std::vector<int64_t> CpuTargets() {
  __builtin_cpu_init();
  std::vector<int64_t> targets = {HWY_AVX2};
  const bool avx3 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512cd");
  // Ice Lake's AVX-512: VNNI (VPDPBUSD, the int8 dot product the W x A8 GEMM is built on) and
  // the byte/bit-manipulation extensions Highway's AVX3_DL target also relies on.
  const bool avx3_dl =
      avx3 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("vpclmulqdq") &&
      __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2") &&
      __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512vpopcntdq") &&
      __builtin_cpu_supports("avx512bitalg") && __builtin_cpu_supports("gfni");
  if (avx3) targets.push_back(HWY_AVX3);
  if (avx3_dl) targets.push_back(HWY_AVX3_DL);  // generated: the build defines HWY_WANT_AVX3_DL
#if defined(HWY_AVX3_ZEN4)
  // Newer Highway adds a Zen 4 flavour of AVX3_DL on AMD; Debian 12's 1.0.3 has no such target.
  // The project does not ask for it, so it is required only where this Highway generates it.
  if (avx3_dl && __builtin_cpu_is("amd") && (HWY_TARGETS & HWY_AVX3_ZEN4) != 0) {
    targets.push_back(HWY_AVX3_ZEN4);
  }
#endif
  return targets;
}

#elif defined(__aarch64__) && defined(__linux__)

// Kernel ABI values, for headers older than the features (they never change).
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_AES
#define HWCAP_AES (1UL << 3)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22)
#endif
#ifndef HWCAP2_SVE2
#define HWCAP2_SVE2 (1UL << 1)
#endif
#ifndef HWCAP2_SVEAES
#define HWCAP2_SVEAES (1UL << 2)
#endif
#ifndef PR_SVE_GET_VL
#define PR_SVE_GET_VL 51
#endif
#ifndef PR_SVE_VL_LEN_MASK
#define PR_SVE_VL_LEN_MASK 0xffff
#endif

// The SVE vector length in bytes, or 0 without SVE. prctl needs no SVE code in this file, and
// qemu-user answers it with the length QEMU_CPU's sve-default-vector-length chose.
int SveVectorBytes() {
  const int vl = prctl(PR_SVE_GET_VL, 0, 0, 0, 0);
  return vl < 0 ? 0 : (vl & PR_SVE_VL_LEN_MASK);
}

// Highway's NEON target uses the AES instructions and its SVE2 target SVE2's AES ones, so those
// are required too; all of qemu's "max" CPUs have them.
std::vector<int64_t> CpuTargets() {
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  const int vector_bytes = (hwcap & HWCAP_SVE) != 0 ? SveVectorBytes() : 0;
  std::vector<int64_t> targets;
  if ((hwcap & HWCAP_ASIMD) != 0 && (hwcap & HWCAP_AES) != 0) targets.push_back(HWY_NEON);
  if ((hwcap & HWCAP_SVE) != 0) {
    targets.push_back(HWY_SVE);
    if (vector_bytes == 32) targets.push_back(HWY_SVE_256);  // Highway's fixed-size 256-bit SVE
  }
  if ((hwcap2 & HWCAP2_SVE2) != 0 && (hwcap2 & HWCAP2_SVEAES) != 0) {
    targets.push_back(HWY_SVE2);
    if (vector_bytes == 16) targets.push_back(HWY_SVE2_128);  // and its 128-bit SVE2
  }
  return targets;
}

#else

std::vector<int64_t> CpuTargets() { return {}; }

#endif

}  // namespace

std::vector<int64_t> RequiredSimdTargets() {
  std::vector<int64_t> targets = CpuTargets();
  std::sort(targets.begin(), targets.end());  // Highway's order: a lower bit is a better target
  return targets;
}

std::vector<int64_t> SimdTargetsToTest() {
  hwy::SetSupportedTargetsForTest(0);  // the CPU's own list, not a mock a test left behind
  const std::vector<int64_t> tested = hwy::SupportedAndGeneratedTargets();
  std::vector<int64_t> missing;
  for (int64_t target : RequiredSimdTargets()) {
    if (std::find(tested.begin(), tested.end(), target) == tested.end()) missing.push_back(target);
  }
  if (!missing.empty()) {
    ADD_FAILURE() << "this CPU needs the kernels tested on " << SimdTargetNames(missing)
                  << " too, but Highway supports and generates only " << SimdTargetNames(tested)
                  << " (is a target no longer compiled, or no longer detected?)";
  }
  return tested;
}

std::string SimdTargetNames(const std::vector<int64_t>& targets) {
  std::string names;
  for (int64_t target : targets) {
    if (!names.empty()) names += ' ';
    names += hwy::TargetName(target);
  }
  return names.empty() ? "(none)" : names;
}

}  // namespace accllm::testing
