// The reader against hand-made bytes: every file here is built from its header text, so the
// reader is tested independently of our writer.
#include "model/safetensors.h"

#include <gmock/gmock.h>  // testing::HasSubstr, testing::ElementsAre
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"  // absl::StatusCode
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"  // TempDir, WriteFileOrDie

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// u64 little-endian header length, the header text, then the data buffer.
std::string FileBytes(const std::string& header, const std::string& data = "") {
  std::string out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string Floats(std::initializer_list<float> values) {
  std::string out(values.size() * sizeof(float), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

std::string AsString(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class Scratch {
 public:
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& bytes) {
    WriteFileOrDie(path(), bytes);
    return SafetensorsFile::Open(path());
  }
  std::filesystem::path path() const { return dir_ / "model.safetensors"; }

  // Opening must fail with `code`, and the message must name the file and every `parts`.
  void ExpectError(const std::string& bytes, absl::StatusCode code,
                   std::initializer_list<std::string> parts) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = Open(bytes);
    ASSERT_THAT(file, StatusIs(code, HasSubstr(path().string())));
    for (const std::string& part : parts) EXPECT_THAT(file.status().message(), HasSubstr(part));
  }

 private:
  TempDir dir_;
};

constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;
constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;

// ---- Valid files ---------------------------------------------------------------------------

TEST(SafetensorsFileTest, ReadsHandWrittenFile) {
  Scratch scratch;
  // Entries listed out of file order; metadata between them.
  const std::string header = R"({"b":{"dtype":"I32","shape":[1,2],"data_offsets":[8,16]},)"
                             R"("__metadata__":{"format":"pt","note":"hi \"there\""},)"
                             R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const int32_t ints[2] = {7, -9};
  const std::string data =
      Floats({1.5f, -2.0f}) + std::string(reinterpret_cast<const char*>(ints), 8);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = scratch.Open(FileBytes(header, data));
  ASSERT_TRUE(file.ok()) << file.status();
  const SafetensorsFile& f = **file;

  EXPECT_EQ(f.path(), scratch.path());
  EXPECT_THAT(f.TensorNames(), ElementsAre("a", "b"));  // by data offset
  EXPECT_TRUE(f.Contains("a"));
  EXPECT_FALSE(f.Contains("c"));
  EXPECT_EQ(f.data_bytes(), 16);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), "hi \"there\"");

  absl::StatusOr<TensorView> a = f.Get("a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->name, "a");
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_THAT(a->shape, ElementsAre(2));
  EXPECT_THAT(ToFloat32Vector(*a), ElementsAre(1.5f, -2.0f));

  absl::StatusOr<TensorView> b = f.Get("b");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype, DType::kI32);
  EXPECT_THAT(b->shape, ElementsAre(1, 2));
  ASSERT_EQ(b->data.size(), 8u);
  int32_t got[2];
  std::memcpy(got, b->data.data(), 8);
  EXPECT_EQ(got[0], 7);
  EXPECT_EQ(got[1], -9);
}

TEST(SafetensorsFileTest, ReadsUnpaddedHeaderAndUnalignedData) {
  Scratch scratch;
  const std::string header = R"({"x":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})";
  ASSERT_NE((8 + header.size()) % 8, 0u);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = scratch.Open(FileBytes(header, "xyz"));
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<TensorView> x = (*file)->Get("x");
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(AsString(x->data), "xyz");
}

TEST(SafetensorsFileTest, ReadsPaddedHeaderWithTrailingSpaces) {
  Scratch scratch;
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      scratch.Open(FileBytes(R"({"x":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}})"
                             "      ",
                             std::string(1, '\1')));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT((*file)->TensorNames(), ElementsAre("x"));
}

TEST(SafetensorsFileTest, ReadsScalarAndEmptyTensors) {
  Scratch scratch;
  const std::string header = R"({"scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                             R"("empty":{"dtype":"F16","shape":[0,3],"data_offsets":[4,4]},)"
                             R"("huge_but_empty":{"dtype":"F64","shape":[0,4611686018427387904,)"
                             R"(4611686018427387904],"data_offsets":[0,0]}})";
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      scratch.Open(FileBytes(header, Floats({3.25f})));
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<TensorView> scalar = (*file)->Get("scalar");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_THAT(scalar->shape, IsEmpty());
  EXPECT_EQ(scalar->numel(), 1);
  EXPECT_THAT(ToFloat32Vector(*scalar), ElementsAre(3.25f));
  absl::StatusOr<TensorView> empty = (*file)->Get("empty");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(empty->shape, ElementsAre(0, 3));
  EXPECT_TRUE(empty->data.empty());
  EXPECT_TRUE((*file)->Contains("huge_but_empty"));
}

TEST(SafetensorsFileTest, ReadsFileWithNoTensors) {
  Scratch scratch;
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      scratch.Open(FileBytes(R"({"__metadata__":{"k":"v"}})"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT((*file)->TensorNames(), IsEmpty());
  EXPECT_EQ((*file)->metadata().at("k"), "v");
}

TEST(SafetensorsFileTest, IgnoresUnknownEntryFields) {
  Scratch scratch;
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = scratch.Open(
      FileBytes(R"({"x":{"dtype":"I8","shape":[1],"data_offsets":[0,1],"extra":[1,2]}})", "\x05"));
  ASSERT_TRUE(file.ok()) << file.status();
}

TEST(SafetensorsFileTest, GetUnknownTensorIsNotFoundNamingFileAndTensor) {
  Scratch scratch;
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = scratch.Open(FileBytes("{}"));
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<TensorView> t = (*file)->Get("lm_head.weight");
  EXPECT_THAT(t, StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr(scratch.path().string()),
                                                             HasSubstr("\"lm_head.weight\""))));
}

TEST(SafetensorsFileTest, ViewsStayValidAfterTheFileIsRemoved) {
  Scratch scratch;
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = scratch.Open(
      FileBytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", Floats({42.0f})));
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<TensorView> x = (*file)->Get("x");
  ASSERT_TRUE(x.ok()) << x.status();
  std::filesystem::remove(scratch.path());
  EXPECT_THAT(ToFloat32Vector(*x), ElementsAre(42.0f));
}

// ---- Framing -------------------------------------------------------------------------------

TEST(SafetensorsFileTest, RejectsFileShorterThanEightBytes) {
  Scratch scratch;
  scratch.ExpectError("", kDataLoss, {"0 bytes", "too short"});
  scratch.ExpectError(std::string("\x02\0\0\0\0", 5), kDataLoss, {"5 bytes", "too short"});
}

TEST(SafetensorsFileTest, RejectsHeaderLongerThanFile) {
  Scratch scratch;
  std::string bytes = FileBytes(R"({"a":1})");
  bytes.pop_back();  // header now claims one byte more than the file holds
  scratch.ExpectError(bytes, kDataLoss, {"header length 7", "6 bytes"});
  // Not a safetensors file at all: the first 8 bytes read as an absurd length.
  scratch.ExpectError("PK\x03\x04 this is a zip", kDataLoss, {"header length"});
}

TEST(SafetensorsFileTest, RejectsHeaderOverOneHundredMiB) {
  Scratch scratch;
  const uint64_t len = kMaxSafetensorsHeaderBytes + 1;
  std::string prefix;
  for (int i = 0; i < 8; ++i) prefix += static_cast<char>((len >> (8 * i)) & 0xff);
  WriteFileOrDie(scratch.path(), prefix);
  std::filesystem::resize_file(scratch.path(), 8 + len);  // sparse: costs no disk
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(scratch.path());
  EXPECT_THAT(file, StatusIs(kInvalidArgument, AllOf(HasSubstr(scratch.path().string()),
                                                     HasSubstr("exceeds the limit"))));
}

TEST(SafetensorsFileTest, RejectsEmptyHeader) {
  Scratch scratch;
  scratch.ExpectError(FileBytes(""), kDataLoss, {"header is empty"});
}

// ---- Header JSON ---------------------------------------------------------------------------

TEST(SafetensorsFileTest, RejectsInvalidJson) {
  Scratch scratch;
  scratch.ExpectError(FileBytes(R"({"a": {"dtype": )"), kDataLoss, {"not valid JSON", "parse"});
  scratch.ExpectError(FileBytes(R"({"a": 1} trailing)"), kDataLoss, {"not valid JSON"});
  scratch.ExpectError(FileBytes("{/* comment */}"), kDataLoss, {"not valid JSON"});
}

TEST(SafetensorsFileTest, RejectsHeaderThatIsNotUtf8) {
  Scratch scratch;
  scratch.ExpectError(FileBytes("{\"\xff\xfe\":{}}"), kDataLoss, {"not valid JSON"});
}

TEST(SafetensorsFileTest, RejectsHeaderThatIsNotAnObject) {
  Scratch scratch;
  scratch.ExpectError(FileBytes("[1, 2]"), kDataLoss, {"header is an array", "expected an object"});
  scratch.ExpectError(FileBytes("\"text\""), kDataLoss,
                      {"header is a string", "expected an object"});
}

TEST(SafetensorsFileTest, RejectsDeeplyNestedHeader) {
  Scratch scratch;
  const std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  scratch.ExpectError(FileBytes(deep), kDataLoss, {"nests deeper"});
}

TEST(SafetensorsFileTest, BracketsInsideStringsDoNotCountAsNesting) {
  Scratch scratch;
  const std::string name = std::string(20, '[') + "\\\"{{{{{{{{{{";
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = scratch.Open(
      FileBytes("{\"" + name + R"(":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "z"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT((*file)->TensorNames(), ElementsAre(std::string(20, '[') + "\"{{{{{{{{{{"));
}

TEST(SafetensorsFileTest, RejectsDuplicateTensorNames) {
  Scratch scratch;
  scratch.ExpectError(FileBytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                "ab"),
                      kDataLoss, {"\"w\" twice"});
}

TEST(SafetensorsFileTest, RejectsEmptyTensorName) {
  Scratch scratch;
  scratch.ExpectError(FileBytes(R"({"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})"),
                      kDataLoss, {"empty name"});
}

// ---- Entries -------------------------------------------------------------------------------

struct BadEntryCase {
  std::string entry;  // the JSON value of tensor "t"
  std::string data;   // the data buffer
  absl::StatusCode code;
  std::vector<std::string> parts;  // substrings the message must hold besides path and tensor
};

void ExpectBadEntries(const std::vector<BadEntryCase>& cases) {
  Scratch scratch;
  for (const BadEntryCase& c : cases) {
    SCOPED_TRACE(c.entry);
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        scratch.Open(FileBytes(R"({"t":)" + c.entry + "}", c.data));
    ASSERT_THAT(file, StatusIs(c.code, AllOf(HasSubstr(scratch.path().string()),
                                             HasSubstr("tensor \"t\""))));
    for (const std::string& part : c.parts) EXPECT_THAT(file.status().message(), HasSubstr(part));
  }
}

TEST(SafetensorsFileTest, RejectsEntryMissingAField) {
  ExpectBadEntries({
      {R"({"shape":[1],"data_offsets":[0,4]})", "1234", kDataLoss, {"missing \"dtype\""}},
      {R"({"dtype":"F32","data_offsets":[0,4]})", "1234", kDataLoss, {"missing \"shape\""}},
      {R"({"dtype":"F32","shape":[1]})", "1234", kDataLoss, {"missing \"data_offsets\""}},
  });
}

TEST(SafetensorsFileTest, RejectsEntryFieldsOfWrongJsonType) {
  ExpectBadEntries({
      {R"([1, 2])", "", kDataLoss, {"entry is an array"}},
      {R"("F32")", "", kDataLoss, {"entry is a string"}},
      {R"({"dtype":32,"shape":[1],"data_offsets":[0,4]})",
       "1234",
       kDataLoss,
       {"\"dtype\" is a number"}},
      {R"({"dtype":"F32","shape":{"0":1},"data_offsets":[0,4]})",
       "1234",
       kDataLoss,
       {"\"shape\" is an object"}},
      {R"({"dtype":"F32","shape":1,"data_offsets":[0,4]})",
       "1234",
       kDataLoss,
       {"\"shape\" is a number"}},
      {R"({"dtype":"F32","shape":[1],"data_offsets":"0-4"})",
       "1234",
       kDataLoss,
       {"\"data_offsets\" is \"0-4\""}},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[0]})",
       "1234",
       kDataLoss,
       {"\"data_offsets\" is [0]", "[begin, end]"}},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})",
       "1234",
       kDataLoss,
       {"\"data_offsets\" is [0,4,8]"}},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})",
       "1234",
       kDataLoss,
       {"\"data_offsets\" is [-4,0]"}},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[0,4.0]})",
       "1234",
       kDataLoss,
       {"\"data_offsets\" is [0,4.0]"}},
      {R"({"dtype":"F32","shape":[1],"data_offsets":[0,null]})",
       "1234",
       kDataLoss,
       {"\"data_offsets\""}},
  });
}

TEST(SafetensorsFileTest, RejectsUnknownDtype) {
  ExpectBadEntries({
      {R"({"dtype":"Q4_K","shape":[1],"data_offsets":[0,1]})",
       "1",
       kInvalidArgument,
       {"unsupported dtype \"Q4_K\""}},
      {R"({"dtype":"f32","shape":[1],"data_offsets":[0,4]})",
       "1234",
       kInvalidArgument,
       {"unsupported dtype \"f32\""}},
  });
}

TEST(SafetensorsFileTest, RejectsBadDimensions) {
  ExpectBadEntries({
      {R"({"dtype":"U8","shape":[2,-3],"data_offsets":[0,0]})",
       "",
       kDataLoss,
       {"dimension 1 is -3", "non-negative integer"}},
      {R"({"dtype":"U8","shape":[2.5],"data_offsets":[0,0]})",
       "",
       kDataLoss,
       {"dimension 0 is 2.5"}},
      {R"({"dtype":"U8","shape":["4"],"data_offsets":[0,4]})",
       "1234",
       kDataLoss,
       {"dimension 0 is \"4\""}},
      {R"({"dtype":"U8","shape":[1e30],"data_offsets":[0,4]})", "1234", kDataLoss, {"dimension 0"}},
      {R"({"dtype":"U8","shape":[99999999999999999999999],"data_offsets":[0,4]})",
       "1234",
       kDataLoss,
       {"dimension 0"}},
      {R"({"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,4]})",
       "1234",
       kDataLoss,
       {"dimension 0 is 9223372036854775808"}},
  });
}

TEST(SafetensorsFileTest, RejectsElementCountOverflow) {
  ExpectBadEntries({
      {R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]})",
       "",
       kDataLoss,
       {"shape [4294967296, 4294967296] of F32", "overflows"}},
  });
}

TEST(SafetensorsFileTest, RejectsByteCountOverflow) {
  ExpectBadEntries({
      {R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})",
       "12345678",
       kDataLoss,
       {"F64", "overflows"}},
  });
}

TEST(SafetensorsFileTest, RejectsBeginAfterEnd) {
  ExpectBadEntries({
      {R"({"dtype":"U8","shape":[0],"data_offsets":[4,0]})",
       "1234",
       kDataLoss,
       {"data_offsets [4, 0] begin after end"}},
  });
}

TEST(SafetensorsFileTest, RejectsEndBeyondBuffer) {
  ExpectBadEntries({
      {R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})",
       "1234",
       kDataLoss,
       {"data_offsets [0, 8] end beyond the 4-byte data buffer"}},
      {R"({"dtype":"U8","shape":[0],"data_offsets":[5,5]})",
       "1234",
       kDataLoss,
       {"data_offsets [5, 5] end beyond"}},
  });
}

TEST(SafetensorsFileTest, RejectsSizeThatDoesNotMatchShape) {
  Scratch scratch;
  scratch.ExpectError(
      FileBytes(R"({"model.norm.weight":{"dtype":"F32","shape":[64],"data_offsets":[0,100]}})",
                std::string(100, '\0')),
      kDataLoss,
      {"tensor \"model.norm.weight\": data_offsets [0, 100] hold 100 bytes but F32 [64] needs "
       "256"});
  ExpectBadEntries({
      {R"({"dtype":"BF16","shape":[2,3],"data_offsets":[0,6]})",
       "123456",
       kDataLoss,
       {"hold 6 bytes but BF16 [2, 3] needs 12"}},
      {R"({"dtype":"I32","shape":[],"data_offsets":[0,0]})",
       "",
       kDataLoss,
       {"hold 0 bytes but I32 [] needs 4"}},
  });
}

// ---- Layout of the data buffer -------------------------------------------------------------

TEST(SafetensorsFileTest, RejectsOverlappingRanges) {
  Scratch scratch;
  scratch.ExpectError(FileBytes(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},)"
                                R"("b":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}})",
                                "0123456789ab"),
                      kDataLoss, {"tensor \"b\": data_offsets [4, 12] overlap tensor \"a\""});
  // Identical ranges are an overlap too (two names for the same bytes).
  scratch.ExpectError(FileBytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                                "0123"),
                      kDataLoss, {"overlap tensor \"a\""});
}

TEST(SafetensorsFileTest, RejectsHoleBetweenTensors) {
  Scratch scratch;
  scratch.ExpectError(FileBytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}})",
                                "0123456789"),
                      kDataLoss, {"bytes [4, 6)", "belong to no tensor", "\"a\"", "\"b\""});
  scratch.ExpectError(
      FileBytes(R"({"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", "012345"), kDataLoss,
      {"bytes [0, 2)", "before \"b\""});
}

TEST(SafetensorsFileTest, RejectsBytesAfterTheLastTensor) {
  Scratch scratch;
  scratch.ExpectError(
      FileBytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", "0123extra"), kDataLoss,
      {"bytes [4, 9) at the end", "belong to no tensor"});
  scratch.ExpectError(FileBytes("{}", "junk"), kDataLoss, {"bytes [0, 4) at the end"});
}

TEST(SafetensorsFileTest, EmptyTensorsMayShareOffsets) {
  Scratch scratch;
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      scratch.Open(FileBytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                             R"("e1":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                             R"("e2":{"dtype":"F32","shape":[3,0],"data_offsets":[2,2]}})",
                             "0123"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT((*file)->TensorNames(), ElementsAre("a", "e2", "e1"));
}

// ---- Metadata ------------------------------------------------------------------------------

TEST(SafetensorsFileTest, RejectsMetadataThatIsNotStringToString) {
  Scratch scratch;
  scratch.ExpectError(FileBytes(R"({"__metadata__":{"format":"pt","epoch":3}})"), kDataLoss,
                      {"\"__metadata__\" entry \"epoch\" is a number", "expected a string"});
  scratch.ExpectError(FileBytes(R"({"__metadata__":{"nested":{"a":"b"}}})"), kDataLoss,
                      {"entry \"nested\" is an object"});
  scratch.ExpectError(FileBytes(R"({"__metadata__":["format","pt"]})"), kDataLoss,
                      {"\"__metadata__\" is an array"});
}

// ---- Robustness ----------------------------------------------------------------------------

// Every prefix of a valid file and many random corruptions must give an error or a valid file,
// never a crash (run under ASan in CI).
TEST(SafetensorsFileTest, SurvivesTruncationAndCorruption) {
  Scratch scratch;
  const std::string valid =
      FileBytes(R"({"__metadata__":{"k":"v"},"a":{"dtype":"F16","shape":[2,2],)"
                R"("data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}})",
                "0123456789abcdef");
  ASSERT_TRUE(scratch.Open(valid).ok());
  for (size_t n = 0; n < valid.size(); ++n) {
    EXPECT_THAT(scratch.Open(valid.substr(0, n)),
                StatusIs(kDataLoss, HasSubstr(scratch.path().string())))
        << "prefix of " << n << " bytes";
  }
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = valid;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; ++k) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng() % 256);
    }
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = scratch.Open(bytes);
    if (!file.ok()) continue;
    for (const std::string& name : (*file)->TensorNames()) {
      absl::StatusOr<TensorView> t = (*file)->Get(name);
      ASSERT_TRUE(t.ok()) << t.status();
      EXPECT_EQ(t->data.size(), static_cast<size_t>(t->numel()) * DTypeSize(t->dtype));
    }
  }
}

}  // namespace
}  // namespace accllm
