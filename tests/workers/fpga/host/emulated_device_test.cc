#include "workers/fpga/host/emulated_device.h"

#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "workers/fpga/host/bank_allocator.h"

namespace accllm::fpga {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;

std::unique_ptr<EmulatedDevice> MakeDevice(int banks = 4, uint64_t bank_bytes = kMiB) {
  EmulatedDeviceOptions options;
  options.num_banks = banks;
  options.bank_bytes = bank_bytes;
  absl::StatusOr<std::unique_ptr<EmulatedDevice>> device = EmulatedDevice::Create(options);
  EXPECT_TRUE(device.ok()) << device.status();
  return std::move(device).value();
}

TEST(EmulatedDeviceTest, FullCardCostsOnlyAddressSpace) {
  // 32 × 256 MiB: mapped lazily, so creating it must not commit 8 GiB.
  absl::StatusOr<std::unique_ptr<EmulatedDevice>> device = EmulatedDevice::Create();
  ASSERT_TRUE(device.ok()) << device.status();
  DeviceInfo info = (*device)->info();
  EXPECT_EQ(info.name, "fpga-emu");
  EXPECT_EQ(info.num_banks, 32);
  EXPECT_EQ(info.bank_bytes, 256 * kMiB);
  absl::StatusOr<DeviceRef> last = (*device)->Allocate(31, 256 * kMiB);
  ASSERT_TRUE(last.ok()) << last.status();
  const uint8_t byte = 7;
  ASSERT_TRUE((*device)->Write(*last, 256 * kMiB - 1, &byte, 1).ok());
}

TEST(EmulatedDeviceTest, RejectsBadShapes) {
  EXPECT_EQ(EmulatedDevice::Create({"x", 0, kMiB}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EmulatedDevice::Create({"x", 33, kMiB}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EmulatedDevice::Create({"x", 2, 1000}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EmulatedDeviceTest, AllocateAlignsAndWriteReadRoundTrips) {
  auto device = MakeDevice();
  absl::StatusOr<DeviceRef> a = device->Allocate(1, 100);
  absl::StatusOr<DeviceRef> b = device->Allocate(1, 5000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bank, 1);
  EXPECT_EQ(a->offset % kDeviceAlignment, 0u);
  EXPECT_EQ(b->offset % kDeviceAlignment, 0u);
  EXPECT_EQ(b->offset, kDeviceAlignment);  // 100 bytes take one 4 KiB slot
  EXPECT_EQ(b->bytes, 5000u);

  std::vector<uint8_t> data(5000);
  std::iota(data.begin(), data.end(), 0);
  ASSERT_TRUE(device->Write(*b, 0, data.data(), data.size()).ok());
  ASSERT_TRUE(device->Sync(*b, Direction::kToDevice).ok());
  ASSERT_TRUE(device->Sync(*b, Direction::kFromDevice).ok());
  std::vector<uint8_t> back(100);
  ASSERT_TRUE(device->Read(*b, 4900, back.data(), back.size()).ok());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin() + 4900));

  DeviceCounters c = device->counters();
  EXPECT_EQ(c.host_to_device_bytes, 5000u);
  EXPECT_EQ(c.device_to_host_bytes, 100u);
}

TEST(EmulatedDeviceTest, CopyBetweenBanks) {
  auto device = MakeDevice();
  DeviceRef src = device->Allocate(0, 8192).value();
  DeviceRef dst = device->Allocate(3, 8192).value();
  std::vector<uint8_t> page(4096, 0xAB);
  ASSERT_TRUE(device->Write(src, 4096, page.data(), page.size()).ok());
  ASSERT_TRUE(device->Copy(dst, 0, src, 4096, 4096).ok());
  std::vector<uint8_t> back(4096);
  ASSERT_TRUE(device->Read(dst, 0, back.data(), back.size()).ok());
  EXPECT_EQ(back, page);
  EXPECT_EQ(device->counters().device_copy_bytes, 4096u);
}

TEST(EmulatedDeviceTest, BoundsAreInvalidArgumentNamingBankAndRange) {
  auto device = MakeDevice();
  DeviceRef ref = device->Allocate(2, 4096).value();
  uint8_t buf[16] = {};

  absl::Status s = device->Write(ref, 4090, buf, 16);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bank 2"));
  EXPECT_THAT(s.message(), HasSubstr("offset 4090"));

  // Offsets that would overflow 64 bits.
  EXPECT_EQ(device->Read(ref, ~uint64_t{0}, buf, 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(device->Read(ref, 8, buf, ~uint64_t{0}).code(), absl::StatusCode::kInvalidArgument);

  // Banks the card does not have.
  s = device->Read(DeviceRef{7, 0, 16}, 0, buf, 16);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bank 7"));
  EXPECT_EQ(device->Read(DeviceRef{-1, 0, 16}, 0, buf, 16).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(device->Allocate(4, 16).status().code(), absl::StatusCode::kInvalidArgument);

  // A forged ref past the bank, or over memory nobody allocated.
  EXPECT_EQ(device->Write(DeviceRef{2, kMiB - 8, 16}, 0, buf, 16).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(device->Write(DeviceRef{2, 8192, 16}, 0, buf, 16).code(),
            absl::StatusCode::kInvalidArgument);
  // A sub-range of a live allocation (one KV page of a pool) is fine.
  EXPECT_TRUE(device->Write(DeviceRef{2, ref.offset + 1024, 1024}, 0, buf, 16).ok());

  EXPECT_EQ(device->Copy(ref, 4000, ref, 0, 200).code(), absl::StatusCode::kInvalidArgument);
}

TEST(EmulatedDeviceTest, ExhaustedBankSaysHowMuchIsFree) {
  auto device = MakeDevice(2, 64 * 1024);
  ASSERT_TRUE(device->Allocate(1, 60 * 1024).ok());
  absl::StatusOr<DeviceRef> more = device->Allocate(1, 8192);
  EXPECT_EQ(more.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(more.status().message(), HasSubstr("bank 1"));
  EXPECT_THAT(more.status().message(), HasSubstr("8192 bytes requested"));
  EXPECT_THAT(more.status().message(), HasSubstr("4096 of 65536 bytes free"));
  EXPECT_TRUE(device->Allocate(0, 8192).ok());  // other banks are unaffected
  EXPECT_EQ(device->Allocate(0, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EmulatedDeviceTest, FreeReturnsSpaceAndCoalesces) {
  auto device = MakeDevice(1, 16 * 1024);
  DeviceRef a = device->Allocate(0, 4096).value();
  DeviceRef b = device->Allocate(0, 4096).value();
  DeviceRef c = device->Allocate(0, 8192).value();
  EXPECT_THAT(device->Allocate(0, 1),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("bank 0 is full")));
  ASSERT_TRUE(device->Free(a).ok());
  ASSERT_TRUE(device->Free(b).ok());
  EXPECT_EQ(device->Free(b).code(), absl::StatusCode::kInvalidArgument);  // twice
  uint8_t byte = 0;
  EXPECT_EQ(device->Write(a, 0, &byte, 1).code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<DeviceRef> ab = device->Allocate(0, 8192);  // a and b merged
  ASSERT_TRUE(ab.ok()) << ab.status();
  EXPECT_EQ(ab->offset, 0u);
  ASSERT_TRUE(device->Free(c).ok());
}

// A kernel in the style of workers/fpga/kernels: reads a vector from one bank through
// DeviceMemory, writes its doubled values to another; buffers[0] = in, buffers[1] = out,
// scalars[0] = element count.
absl::Status DoubleKernel(const DeviceMemory& mem, const KernelArgs& args) {
  if (args.buffers.size() != 2 || args.scalars.size() != 1) {
    return absl::InvalidArgumentError("double: 2 buffers and 1 scalar");
  }
  const uint64_t n = args.scalars[0];
  const int32_t* in = mem.ReadPart<int32_t>(args.buffers[0], 0, n * 4);
  int32_t* out = mem.WritePart<int32_t>(args.buffers[1], 0, n * 4);
  for (uint64_t i = 0; i < n; ++i) out[i] = 2 * in[i];
  return absl::OkStatus();
}

TEST(EmulatedDeviceTest, RunsRegisteredKernelAndCountsPerBank) {
  auto device = MakeDevice();
  device->RegisterKernel("double", DoubleKernel);
  device->SetCycleModel([](const BankCounters& launch) {
    return static_cast<double>(launch.total_read() + launch.total_written()) * 1e-9;
  });
  DeviceRef in = device->Allocate(0, 1024 * 4).value();
  DeviceRef out = device->Allocate(2, 1024 * 4).value();
  std::vector<int32_t> values(1024);
  std::iota(values.begin(), values.end(), -100);
  ASSERT_TRUE(device->Write(in, 0, values.data(), values.size() * 4).ok());

  KernelArgs args{{in, out}, {1024}};
  for (int launch = 0; launch < 2; ++launch) {
    ASSERT_TRUE(device->Run("double", args, absl::Seconds(10)).ok());
  }
  std::vector<int32_t> result(1024);
  ASSERT_TRUE(device->Read(out, 0, result.data(), result.size() * 4).ok());
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(result[i], 2 * values[i]);

  DeviceCounters c = device->counters();
  EXPECT_EQ(c.launches, 2u);
  EXPECT_EQ(c.banks.bytes_read[0], 2u * 4096);
  EXPECT_EQ(c.banks.bytes_written[2], 2u * 4096);
  EXPECT_EQ(c.banks.bytes_read[2], 0u);
  EXPECT_EQ(c.banks.bytes_written[0], 0u);
  EXPECT_DOUBLE_EQ(c.modelled_kernel_seconds, 4.0 * 4096 * 1e-9);
  EXPECT_GE(c.kernel_wall_seconds, 0.0);
  EXPECT_EQ(device->info().kernels, std::vector<std::string>{"double"});

  device->ResetCounters();
  EXPECT_EQ(device->counters().launches, 0u);
  EXPECT_EQ(device->counters().banks.total_read(), 0u);
}

TEST(EmulatedDeviceTest, KernelSeesBankBasesAndWholeBankArgs) {
  auto device = MakeDevice();
  DeviceRef cmd = device->Allocate(3, 4096).value();
  const uint64_t magic = 0x5eed;
  ASSERT_TRUE(device->Write(cmd, 0, &magic, sizeof(magic)).ok());
  device->RegisterKernel("peek", [&](const DeviceMemory& mem, const KernelArgs& args) {
    // The decoder top's shape: one whole-bank port per bank, then the command buffer.
    EXPECT_TRUE(IsWholeBank(args.buffers[0]));
    const DeviceRef& c = args.buffers.back();
    uint64_t seen = 0;
    std::memcpy(&seen, mem.base[c.bank] + c.offset, sizeof(seen));
    return seen == magic ? absl::OkStatus() : absl::InternalError("wrong command");
  });
  KernelArgs args;
  for (int b = 0; b < device->num_banks(); ++b) args.buffers.push_back(WholeBank(b));
  args.buffers.push_back(cmd);
  EXPECT_TRUE(device->Run("peek", args, absl::Seconds(10)).ok());

  args.buffers[1] = WholeBank(9);  // no such bank
  EXPECT_EQ(device->Run("peek", args, absl::Seconds(10)).code(),
            absl::StatusCode::kInvalidArgument);
  args.buffers[1] = DeviceRef{1, 0, 64};  // not allocated
  EXPECT_EQ(device->Run("peek", args, absl::Seconds(10)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(device->counters().launches, 1u);  // refused launches are not counted
}

TEST(EmulatedDeviceTest, UnknownKernelIsNotFound) {
  auto device = MakeDevice();
  device->RegisterKernel("double", DoubleKernel);
  absl::Status s = device->Run("accllm_decoder", KernelArgs{}, absl::Seconds(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("accllm_decoder"));
  EXPECT_THAT(s.message(), HasSubstr("double"));
  EXPECT_EQ(device->counters().launches, 0u);
}

TEST(EmulatedDeviceTest, SlowKernelIsDeadlineExceeded) {
  auto device = MakeDevice();
  device->RegisterKernel("slow", [](const DeviceMemory&, const KernelArgs&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return absl::OkStatus();
  });
  absl::Status s = device->Run("slow", KernelArgs{}, absl::Milliseconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("slow"));
  EXPECT_EQ(device->counters().launches, 1u);
  EXPECT_TRUE(device->Run("slow", KernelArgs{}, absl::Seconds(10)).ok());
}

TEST(EmulatedDeviceTest, KernelErrorKeepsItsCode) {
  auto device = MakeDevice();
  device->RegisterKernel("double", DoubleKernel);
  absl::Status s = device->Run("double", KernelArgs{}, absl::Seconds(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("2 buffers"));
}

TEST(EmulatedDeviceTest, WorksThroughTheInterface) {
  std::unique_ptr<Device> device = MakeDevice(2, 64 * 1024);
  EXPECT_EQ(device->num_banks(), 2);
  DeviceRef ref = device->Allocate(1, 10).value();
  const char text[] = "hbm";
  ASSERT_TRUE(device->Write(ref, 0, text, sizeof(text)).ok());
  char back[sizeof(text)] = {};
  ASSERT_TRUE(device->Read(ref, 0, back, sizeof(back)).ok());
  EXPECT_STREQ(back, "hbm");
}

}  // namespace
}  // namespace accllm::fpga
