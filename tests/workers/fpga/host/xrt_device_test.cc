// XrtDevice on a machine without a card: every way of failing to get one must be a clear
// absl::Status (never an exception or a crash), and the xclbin checks must work from the file
// alone. xclbins are written by the test from XRT's own structures (xclbin_writer).
#include "workers/fpga/host/xrt_device.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/workers/fpga/host/xclbin_writer.h"

namespace accllm::fpga {
namespace {

namespace fs = std::filesystem;
using ::accllm::testing::StatusIs;
using testing::FakeXclbinSpec;
using ::testing::HasSubstr;

// Sets (or unsets, with nullopt) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

FakeXclbinSpec DecoderSpec(int banks = 32) {
  FakeXclbinSpec spec;
  spec.hbm_banks = banks;
  // The decoder top: one m_axi port per bank plus the command buffer, then two scalars.
  spec.kernels = {{"accllm_decoder", 33, 2}};
  return spec;
}

class XrtDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!XrtCompiledIn()) GTEST_SKIP() << "this build has no XRT";
    if (!testing::XclbinWriterAvailable()) GTEST_SKIP() << "no <xrt/xclbin.h> for the writer";
    dir_ = fs::temp_directory_path() /
           absl::StrCat("accllm_xrt_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  std::string Xclbin(const std::string& name, const FakeXclbinSpec& spec) {
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(testing::WriteXclbin(path, spec).ok());
    return path;
  }

  fs::path dir_;
};

TEST_F(XrtDeviceTest, WrittenXclbinReadsBackThroughXrt) {
  absl::StatusOr<XclbinSummary> s = InspectXclbin(Xclbin("ok.xclbin", DecoderSpec()));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->platform, "xilinx_u280_gen3x16_xdma_1_202211_1");
  EXPECT_EQ(s->kernels, std::vector<std::string>{"accllm_decoder"});
  ASSERT_EQ(s->hbm_banks.size(), 32u);
  EXPECT_EQ(s->hbm_banks.front(), 0);
  EXPECT_EQ(s->hbm_banks.back(), 31);
  EXPECT_EQ(s->hbm_mem_index[5], 5);
  EXPECT_EQ(s->min_hbm_bank_bytes, uint64_t{256} << 20);
  EXPECT_TRUE(CheckXclbin(*s, XclbinRequirements{}).ok());
}

TEST_F(XrtDeviceTest, MissingKernelNamesWhatTheXclbinHas) {
  FakeXclbinSpec spec;
  spec.kernels = {{"vadd", 3, 1}, {"mmult", 3, 1}};
  const std::string path = Xclbin("vadd.xclbin", spec);
  absl::Status s = XrtDevice::Open(0, path, XclbinRequirements{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_THAT(s.message(), HasSubstr("lacks kernel 'accllm_decoder'"));
  EXPECT_THAT(s.message(), HasSubstr("vadd, mmult"));
  std::cout << "XRT-less check said: " << s << "\n";
}

TEST_F(XrtDeviceTest, TooFewBanksNamesTheMissingOnes) {
  const std::string path = Xclbin("16.xclbin", DecoderSpec(16));
  absl::Status s = XrtDevice::Open(0, path, XclbinRequirements{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("lacks HBM banks HBM[16], HBM[17]"));
  EXPECT_THAT(s.message(), HasSubstr("HBM[31]"));
  EXPECT_THAT(s.message(), HasSubstr("uses 16 HBM banks"));

  XclbinRequirements big;
  big.hbm_banks = 16;
  big.bank_bytes = uint64_t{512} << 20;
  s = CheckXclbin(InspectXclbin(path).value(), big);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("needs 536870912 per bank"));
  std::cout << "XRT-less check said: " << s << "\n";
}

TEST_F(XrtDeviceTest, MissingOrGarbageFilesAreClearErrors) {
  absl::Status s = XrtDevice::Open(0, (dir_ / "nope.xclbin").string(), {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("nope.xclbin"));
  EXPECT_EQ(XrtDevice::Open(0, "", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(XrtDevice::Open(0, dir_.string(), {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  const std::string garbage = (dir_ / "garbage.xclbin").string();
  std::ofstream(garbage) << "this is not a bitstream";
  s = XrtDevice::Open(0, garbage, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("is not an xclbin"));
  std::cout << "garbage: " << s << "\n";

  // Right magic, but cut short: the section table points past the end.
  std::vector<char> bytes = testing::BuildXclbin(DecoderSpec());
  bytes.resize(bytes.size() / 2);
  const std::string cut = (dir_ / "cut.xclbin").string();
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size()));
  s = XrtDevice::Open(0, cut, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
  std::cout << "truncated: " << s << "\n";

  // A big file of zeros: long enough to parse, wrong magic.
  std::vector<char> zeros(4096, 0);
  const std::string zero = (dir_ / "zero.xclbin").string();
  std::ofstream(zero, std::ios::binary).write(zeros.data(), static_cast<long>(zeros.size()));
  EXPECT_EQ(XrtDevice::Open(0, zero, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(XrtDeviceTest, UnsetXilinxXrtIsAClearError) {
  const std::string path = Xclbin("ok.xclbin", DecoderSpec());
  ScopedEnv emu("XCL_EMULATION_MODE", std::nullopt);
  ScopedEnv xrt("XILINX_XRT", std::nullopt);
  absl::Status s = XrtDevice::Open(0, path, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("XILINX_XRT is not set"));
  EXPECT_THAT(s.message(), HasSubstr("libxrt_core.so.2"));
  std::cout << "XILINX_XRT unset: " << s << "\n";

  ScopedEnv empty_dir("XILINX_XRT", dir_.string());
  s = XrtDevice::Open(0, path, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("/lib/libxrt_core.so.2 is missing"));
}

TEST_F(XrtDeviceTest, NoopEmulationIsRefused) {
  const std::string path = Xclbin("ok.xclbin", DecoderSpec());
  ScopedEnv emu("XCL_EMULATION_MODE", std::string("noop"));
  absl::Status s = XrtDevice::Open(0, path, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("noop"));
  EXPECT_THAT(ProbeCard(0, path, {}), StatusIs(absl::StatusCode::kFailedPrecondition,
                                               HasSubstr("XCL_EMULATION_MODE=noop")));
}

// Where Debian (or a vendor install) keeps libxrt_core.so.2.
std::optional<fs::path> FindXrtCore() {
  for (const char* dir : {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                          "/usr/lib", "/opt/xilinx/xrt/lib"}) {
    const fs::path p = fs::path(dir) / "libxrt_core.so.2";
    if (fs::exists(p)) return p;
  }
  return std::nullopt;
}

TEST_F(XrtDeviceTest, NoCardIsUnavailableWithXrtsMessage) {
  const std::optional<fs::path> core = FindXrtCore();
  if (!core) GTEST_SKIP() << "libxrt_core.so.2 not found; cannot point XILINX_XRT at it";
  fs::create_directories(dir_ / "xrt" / "lib");
  fs::create_symlink(*core, dir_ / "xrt" / "lib" / "libxrt_core.so.2");
  const std::string path = Xclbin("ok.xclbin", DecoderSpec());
  ScopedEnv emu("XCL_EMULATION_MODE", std::nullopt);
  ScopedEnv xrt("XILINX_XRT", (dir_ / "xrt").string());

  absl::StatusOr<std::unique_ptr<XrtDevice>> device = XrtDevice::Open(0, path, {});
  if (device.ok()) GTEST_SKIP() << "a card is installed: " << (*device)->info().name;
  EXPECT_EQ(device.status().code(), absl::StatusCode::kUnavailable) << device.status();
  EXPECT_THAT(device.status().message(), HasSubstr("fpga:0"));
  EXPECT_THAT(device.status().message(), HasSubstr("XRT: "));
  std::cout << "no card: " << device.status() << "\n";
  // `auto` asks the same question and must get the same answer.
  EXPECT_EQ(ProbeCard(0, path, {}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ProbeCard(7, path, {}).code(), absl::StatusCode::kUnavailable);
}

TEST(XrtDeviceNoXrtTest, OpenNeverThrows) {
  // Whatever the build, a bogus request is a status.
  absl::Status s = XrtDevice::Open(0, "/nonexistent.xclbin", {}).status();
  if (XrtCompiledIn()) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent.xclbin")));
  } else {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("this build has no XRT")));
  }
}

}  // namespace
}  // namespace accllm::fpga
