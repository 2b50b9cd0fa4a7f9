#include "model/safetensors_writer.h"

#include <gmock/gmock.h>  // testing::HasSubstr, testing::ElementsAre
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>  // nlohmann::json
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"    // absl::StatusCode
#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/safetensors.h"     // SafetensorsFile
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"  // TempDir, ReadFileOrDie

namespace accllm {
namespace {

using ::accllm::testing::ReadFileOrDie;
using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

template <typename T>
std::span<const std::byte> Bytes(const std::vector<T>& v) {
  return std::as_bytes(std::span(v));
}

std::vector<std::byte> ToVector(std::span<const std::byte> bytes) {
  return {bytes.begin(), bytes.end()};
}

std::unique_ptr<SafetensorsFile> WriteAndOpen(const SafetensorsWriter& writer,
                                              const std::filesystem::path& path) {
  absl::Status s = writer.Write(path);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *std::move(file) : nullptr;
}

std::vector<std::string> FilesIn(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The header as the writer laid it out, parsed independently of SafetensorsFile.
nlohmann::json ReadHeader(const std::filesystem::path& path, size_t* header_len) {
  const std::string bytes = ReadFileOrDie(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  *header_len = n;
  return nlohmann::json::parse(bytes.substr(8, n), nullptr, /*allow_exceptions=*/false);
}

TEST(SafetensorsWriterTest, RoundTripsEveryDType) {
  TempDir dir;
  const std::vector<DType> dtypes = {DType::kF64, DType::kF32, DType::kF16, DType::kBF16,
                                     DType::kI64, DType::kI32, DType::kI16, DType::kI8,
                                     DType::kU8,  DType::kBool};
  std::vector<std::vector<std::byte>> storage;
  SafetensorsWriter writer;
  for (DType dtype : dtypes) {
    std::vector<std::byte> data(2 * 3 * DTypeSize(dtype));
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = static_cast<std::byte>(i * 7 + static_cast<int>(dtype));
    }
    storage.push_back(std::move(data));
    ASSERT_TRUE(writer.Add(std::string(DTypeName(dtype)), dtype, {2, 3}, storage.back()).ok());
  }
  std::unique_ptr<SafetensorsFile> file = WriteAndOpen(writer, dir / "all.safetensors");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(file->TensorNames().size(), dtypes.size());
  for (size_t i = 0; i < dtypes.size(); ++i) {
    const std::string name(DTypeName(dtypes[i]));
    SCOPED_TRACE(name);
    EXPECT_EQ(file->TensorNames()[i], name);  // insertion order is file order
    absl::StatusOr<TensorView> t = file->Get(name);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->dtype, dtypes[i]);
    EXPECT_THAT(t->shape, ElementsAre(2, 3));
    EXPECT_EQ(ToVector(t->data), storage[i]);
  }
  EXPECT_EQ(file->data_bytes(), writer.data_bytes());
}

TEST(SafetensorsWriterTest, RoundTripsHalfAndBFloat16Values) {
  TempDir dir;
  const std::vector<float> values = {0.0f, 1.0f, -2.5f, 65504.0f, 0.000061035156f, 3.140625f};
  std::vector<uint16_t> half, bf16;
  for (float v : values) {
    half.push_back(FloatToHalf(v));
    bf16.push_back(FloatToBF16(v));
  }
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.Add("half", DType::kF16, {6}, Bytes(half)).ok());
  ASSERT_TRUE(writer.Add("bf16", DType::kBF16, {3, 2}, Bytes(bf16)).ok());
  std::unique_ptr<SafetensorsFile> file = WriteAndOpen(writer, dir / "h.safetensors");
  ASSERT_NE(file, nullptr);
  absl::StatusOr<TensorView> h = file->Get("half");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_THAT(ToFloat32Vector(*h), ElementsAreArray(values));  // all exact in half
  absl::StatusOr<TensorView> b = file->Get("bf16");
  ASSERT_TRUE(b.ok()) << b.status();
  std::vector<float> expected;
  for (uint16_t v : bf16) expected.push_back(BF16ToFloat(v));
  EXPECT_THAT(ToFloat32Vector(*b), ElementsAreArray(expected));
}

TEST(SafetensorsWriterTest, RoundTripsScalarsAndEmptyTensors) {
  TempDir dir;
  const std::vector<int32_t> scalar = {-17};
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.Add("empty_first", DType::kF32, {0}, {}).ok());
  ASSERT_TRUE(writer.Add("scalar", DType::kI32, {}, Bytes(scalar)).ok());
  ASSERT_TRUE(writer.Add("empty_2d", DType::kBF16, {4, 0}, {}).ok());
  ASSERT_TRUE(writer.AddGenerated("empty_generated", DType::kU8, {0, 9}, [](auto) {}).ok());
  EXPECT_EQ(writer.data_bytes(), 4);
  std::unique_ptr<SafetensorsFile> file = WriteAndOpen(writer, dir / "s.safetensors");
  ASSERT_NE(file, nullptr);
  absl::StatusOr<TensorView> s = file->Get("scalar");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->shape, IsEmpty());
  int32_t got;
  ASSERT_EQ(s->data.size(), sizeof(got));
  std::memcpy(&got, s->data.data(), sizeof(got));
  EXPECT_EQ(got, -17);
  for (const char* name : {"empty_first", "empty_2d", "empty_generated"}) {
    absl::StatusOr<TensorView> e = file->Get(name);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_TRUE(e->data.empty()) << name;
  }
  absl::StatusOr<TensorView> e = file->Get("empty_2d");
  EXPECT_THAT(e->shape, ElementsAre(4, 0));
}

TEST(SafetensorsWriterTest, RoundTripsMetadata) {
  TempDir dir;
  SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  writer.SetMetadata("quote\"and\\slash", "line\nbreak\ttab \xc3\xa9\xe2\x82\xac");
  writer.SetMetadata("format", "np");  // replaces
  std::unique_ptr<SafetensorsFile> file = WriteAndOpen(writer, dir / "m.safetensors");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(file->TensorNames(), IsEmpty());
  EXPECT_EQ(file->metadata(), writer.metadata());
  EXPECT_EQ(file->metadata().at("format"), "np");
  EXPECT_EQ(file->metadata().at("quote\"and\\slash"), "line\nbreak\ttab \xc3\xa9\xe2\x82\xac");
}

TEST(SafetensorsWriterTest, WritesStandardHeaderPaddedToEightBytes) {
  TempDir dir;
  const std::vector<float> v = {1, 2, 3};
  for (int name_len = 1; name_len <= 9; ++name_len) {
    SafetensorsWriter writer;
    ASSERT_TRUE(writer.Add(std::string(name_len, 'n'), DType::kF32, {3}, Bytes(v)).ok());
    ASSERT_TRUE(writer.Add("b", DType::kF32, {1, 3}, Bytes(v)).ok());
    const auto path = dir / "p.safetensors";
    ASSERT_TRUE(writer.Write(path).ok());
    size_t header_len;
    const nlohmann::json header = ReadHeader(path, &header_len);
    EXPECT_EQ((8 + header_len) % 8, 0u) << name_len;
    ASSERT_TRUE(header.is_object());
    EXPECT_FALSE(header.contains("__metadata__"));  // none was set
    const nlohmann::json& a = header[std::string(name_len, 'n')];
    EXPECT_EQ(a["dtype"], "F32");
    EXPECT_EQ(a["shape"], nlohmann::json::array({3}));
    EXPECT_EQ(a["data_offsets"], nlohmann::json::array({0, 12}));
    EXPECT_EQ(header["b"]["data_offsets"], nlohmann::json::array({12, 24}));
    EXPECT_EQ(std::filesystem::file_size(path), 8 + header_len + 24);
  }
}

TEST(SafetensorsWriterTest, AddRejectsBadNames) {
  const std::vector<float> v = {1};
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.Add("w", DType::kF32, {1}, Bytes(v)).ok());

  absl::Status dup = writer.Add("w", DType::kF32, {1}, Bytes(v));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.message(), HasSubstr("\"w\""));

  absl::Status dup_generated = writer.AddGenerated("w", DType::kF32, {1}, [](auto) {});
  EXPECT_EQ(dup_generated.code(), absl::StatusCode::kAlreadyExists);

  absl::Status empty = writer.Add("", DType::kF32, {1}, Bytes(v));
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("empty"));

  absl::Status reserved = writer.Add("__metadata__", DType::kF32, {1}, Bytes(v));
  EXPECT_EQ(reserved.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reserved.message(), HasSubstr("reserved"));

  absl::Status not_utf8 = writer.Add("bad\xff", DType::kF32, {1}, Bytes(v));
  EXPECT_EQ(not_utf8.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(not_utf8.message(), HasSubstr("UTF-8"));
  // Overlong encoding of '/' and an encoded surrogate are not UTF-8 either.
  EXPECT_THAT(writer.Add("\xc0\xaf", DType::kF32, {1}, Bytes(v)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not UTF-8")));
  EXPECT_THAT(writer.Add("\xed\xa0\x80", DType::kF32, {1}, Bytes(v)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not UTF-8")));
  EXPECT_TRUE(writer.Add("caf\xc3\xa9", DType::kF32, {1}, Bytes(v)).ok());

  EXPECT_THAT(writer.TensorNames(), ElementsAre("w", "caf\xc3\xa9"));
  EXPECT_EQ(writer.data_bytes(), 8);
}

TEST(SafetensorsWriterTest, AddRejectsDataThatDoesNotMatchShape) {
  const std::vector<float> v = {1, 2, 3};
  SafetensorsWriter writer;
  absl::Status s = writer.Add("layer.weight", DType::kF32, {2, 2}, Bytes(v));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tensor \"layer.weight\": 12 bytes of data but F32 [2, 2] "
                                     "needs 16"));
  EXPECT_THAT(writer.Add("scalar", DType::kF32, {}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor \"scalar\": 0 bytes of data but F32 [] needs 4")));
  EXPECT_EQ(writer.size(), 0u);
  EXPECT_EQ(writer.data_bytes(), 0);
}

TEST(SafetensorsWriterTest, AddRejectsBadShapes) {
  SafetensorsWriter writer;
  absl::Status negative = writer.AddGenerated("neg", DType::kF32, {2, -1}, [](auto) {});
  EXPECT_EQ(negative.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.message(), HasSubstr("tensor \"neg\": shape [2, -1]"));

  absl::Status huge =
      writer.AddGenerated("huge", DType::kF32, {int64_t{1} << 40, int64_t{1} << 30}, [](auto) {});
  EXPECT_EQ(huge.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(huge.message(), HasSubstr("tensor \"huge\""));

  // Each fits, but the total would not.
  ASSERT_TRUE(writer.AddGenerated("big1", DType::kU8, {int64_t{1} << 62}, [](auto) {}).ok());
  ASSERT_TRUE(writer.AddGenerated("big2", DType::kU8, {(int64_t{1} << 62) - 1}, [](auto) {}).ok());
  EXPECT_EQ(writer.data_bytes(), INT64_MAX);
  EXPECT_THAT(writer.AddGenerated("big3", DType::kU8, {1}, [](auto) {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor \"big3\": shape [1] would take the file's data past")));

  EXPECT_THAT(writer.AddGenerated("no_fill", DType::kU8, {1}, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor \"no_fill\": no fill function")));
}

TEST(SafetensorsWriterTest, GeneratedTensorsAreFilledDuringWriteWithExactSizes) {
  TempDir dir;
  std::vector<size_t> sizes;
  SafetensorsWriter writer;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(writer
                    .AddGenerated(absl::StrCat("g", i), DType::kF16, {i + 1, 5},
                                  [&sizes, i](std::span<std::byte> out) {
                                    sizes.push_back(out.size());
                                    for (std::byte& b : out) {
                                      EXPECT_EQ(b, std::byte{0});  // a zeroed buffer
                                      b = static_cast<std::byte>(i + 1);
                                    }
                                  })
                    .ok());
  }
  EXPECT_THAT(sizes, IsEmpty());  // nothing generated until Write
  EXPECT_EQ(writer.data_bytes(), (1 + 2 + 3) * 5 * 2);
  std::unique_ptr<SafetensorsFile> file = WriteAndOpen(writer, dir / "g.safetensors");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(sizes, ElementsAre(10, 20, 30));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<TensorView> t = file->Get(absl::StrCat("g", i));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_THAT(ToVector(t->data), ::testing::Each(static_cast<std::byte>(i + 1)));
  }
}

TEST(SafetensorsWriterTest, ReplacesExistingFileAtomically) {
  TempDir dir;
  const auto path = dir / "model.safetensors";
  const std::vector<float> old_values = {1, 2}, new_values = {3, 4, 5};
  SafetensorsWriter old_writer;
  ASSERT_TRUE(old_writer.Add("w", DType::kF32, {2}, Bytes(old_values)).ok());
  std::unique_ptr<SafetensorsFile> old_file = WriteAndOpen(old_writer, path);
  ASSERT_NE(old_file, nullptr);

  SafetensorsWriter new_writer;
  ASSERT_TRUE(new_writer.Add("w", DType::kF32, {3}, Bytes(new_values)).ok());
  std::unique_ptr<SafetensorsFile> new_file = WriteAndOpen(new_writer, path);
  ASSERT_NE(new_file, nullptr);

  // The old mapping still sees the old file: the new one was renamed over it, not rewritten.
  EXPECT_THAT(ToFloat32Vector(*old_file->Get("w")), ElementsAre(1, 2));
  EXPECT_THAT(ToFloat32Vector(*new_file->Get("w")), ElementsAre(3, 4, 5));
  EXPECT_THAT(FilesIn(dir.path()), ElementsAre("model.safetensors"));  // no temp files left
}

TEST(SafetensorsWriterTest, FailedWriteLeavesOldFileAndNoTempFile) {
  TempDir dir;
  const auto path = dir / "model.safetensors";
  const std::vector<float> values = {1, 2};
  SafetensorsWriter good;
  ASSERT_TRUE(good.Add("w", DType::kF32, {2}, Bytes(values)).ok());
  ASSERT_TRUE(good.Write(path).ok());
  const std::string before = ReadFileOrDie(path);

  SafetensorsWriter failing;
  ASSERT_TRUE(failing.Add("w", DType::kF32, {2}, Bytes(values)).ok());
  ASSERT_TRUE(failing
                  .AddGenerated("boom", DType::kU8, {4},
                                [](auto) { throw std::runtime_error("generator failed"); })
                  .ok());
  EXPECT_THROW((void)failing.Write(path), std::runtime_error);
  EXPECT_EQ(ReadFileOrDie(path), before);
  EXPECT_THAT(FilesIn(dir.path()), ElementsAre("model.safetensors"));
}

TEST(SafetensorsWriterTest, WriteIntoMissingDirectoryNamesThePath) {
  TempDir dir;
  SafetensorsWriter writer;
  const auto path = dir / "no" / "such" / "dir" / "model.safetensors";
  absl::Status s = writer.Write(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr((dir / "no" / "such" / "dir").string()));
  EXPECT_THAT(s.message(), HasSubstr("No such file or directory"));
}

TEST(SafetensorsWriterTest, WriteRejectsMetadataThatIsNotUtf8) {
  TempDir dir;
  SafetensorsWriter writer;
  writer.SetMetadata("source", "latin1 \xe9t\xe9");
  absl::Status s = writer.Write(dir / "m.safetensors");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("metadata \"source\""));
  EXPECT_THAT(FilesIn(dir.path()), IsEmpty());
}

TEST(SafetensorsWriterTest, WritesEmptyFile) {
  TempDir dir;
  SafetensorsWriter writer;
  std::unique_ptr<SafetensorsFile> file = WriteAndOpen(writer, dir / "e.safetensors");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(file->TensorNames(), IsEmpty());
  EXPECT_EQ(std::filesystem::file_size(dir / "e.safetensors") % 8, 0u);
}

TEST(SafetensorsWriterTest, SplitIntoShardsKeepsOrderAndNeverSplitsATensor) {
  const std::vector<std::byte> b10(10), b30(30), b100(100);
  SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  ASSERT_TRUE(writer.Add("a", DType::kU8, {10}, b10).ok());
  ASSERT_TRUE(writer.Add("b", DType::kU8, {30}, b30).ok());
  ASSERT_TRUE(writer.Add("c", DType::kU8, {10}, b10).ok());    // a+b+c = 50: fits in 50
  ASSERT_TRUE(writer.Add("d", DType::kU8, {100}, b100).ok());  // alone, over the limit
  ASSERT_TRUE(writer.Add("e", DType::kU8, {0}, {}).ok());
  ASSERT_TRUE(writer.Add("f", DType::kU8, {30}, b30).ok());
  ASSERT_TRUE(writer.Add("g", DType::kU8, {30}, b30).ok());
  const std::vector<SafetensorsWriter> shards = writer.SplitIntoShards(50);
  ASSERT_EQ(shards.size(), 4u);
  EXPECT_THAT(shards[0].TensorNames(), ElementsAre("a", "b", "c"));
  EXPECT_THAT(shards[1].TensorNames(), ElementsAre("d"));
  EXPECT_THAT(shards[2].TensorNames(), ElementsAre("e", "f"));
  EXPECT_THAT(shards[3].TensorNames(), ElementsAre("g"));
  EXPECT_EQ(shards[0].data_bytes(), 50);
  EXPECT_EQ(shards[1].data_bytes(), 100);
  for (const SafetensorsWriter& shard : shards) EXPECT_EQ(shard.metadata().at("format"), "pt");
  EXPECT_THAT(SafetensorsWriter().SplitIntoShards(50), IsEmpty());
}

}  // namespace
}  // namespace accllm
