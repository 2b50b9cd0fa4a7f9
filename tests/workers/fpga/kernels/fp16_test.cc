#include "workers/fpga/kernels/fp16.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "model/dtype.h"  // HalfToFloat

namespace accllm::fpga {
namespace {

TEST(Fp16Test, EveryHalfDecodesToTheSameBitsAsTheModelLibrary) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float got = HalfBitsToFloat(static_cast<uint16_t>(h));
    const float want = accllm::HalfToFloat(static_cast<uint16_t>(h));
    ASSERT_EQ(std::memcmp(&got, &want, sizeof(float)), 0) << "half 0x" << std::hex << h;
  }
}

TEST(Fp16Test, HalfAtReadsLittleEndianAtAnyAlignment) {
  const uint8_t bytes[] = {0xAB, 0x00, 0x3C, 0x00, 0xC0};  // 1.0 at byte 1, -2.0 at byte 3
  EXPECT_EQ(HalfAt(bytes + 1, 0), 1.0f);
  EXPECT_EQ(HalfAt(bytes + 1, 1), -2.0f);
}

}  // namespace
}  // namespace accllm::fpga
