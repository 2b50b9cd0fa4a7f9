#include "model/tensor_store.h"

#include <gmock/gmock.h>  // testing::HasSubstr, testing::ElementsAre
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>  // nlohmann::json
#include <string>
#include <vector>

#include "absl/status/status.h"    // absl::StatusCode
#include "absl/strings/str_cat.h"  // absl::StrCat
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"  // TempDir, ReadFileOrDie, WriteFileOrDie

namespace accllm {
namespace {

namespace fs = std::filesystem;
using ::accllm::testing::ReadFileOrDie;
using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> FilesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Tensors "t0".."t{n-1}", each `floats` F32 values equal to its index.
class Model {
 public:
  Model(int n, int floats) {
    for (int i = 0; i < n; ++i) values_.emplace_back(floats, static_cast<float>(i));
    for (int i = 0; i < n; ++i) {
      absl::Status s = writer_.Add(absl::StrCat("t", i), DType::kF32, {floats},
                                   std::as_bytes(std::span(values_[i])));
      EXPECT_TRUE(s.ok()) << s;
    }
    writer_.SetMetadata("format", "pt");
  }
  const SafetensorsWriter& writer() const { return writer_; }

 private:
  std::vector<std::vector<float>> values_;
  SafetensorsWriter writer_;
};

std::unique_ptr<TensorStore> OpenOrDie(const fs::path& dir) {
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

void ExpectValue(const TensorStore& store, const std::string& name, float value, size_t n) {
  absl::StatusOr<TensorView> t = store.Get(name);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(ToFloat32Vector(*t), std::vector<float>(n, value)) << name;
}

// A shard with one U8 tensor per name.
void WriteShard(const fs::path& path, const std::vector<std::string>& names) {
  static const std::byte kByte{42};
  SafetensorsWriter writer;
  for (const std::string& name : names) {
    ASSERT_TRUE(writer.Add(name, DType::kU8, {1}, std::span(&kByte, 1)).ok());
  }
  ASSERT_TRUE(writer.Write(path).ok());
}

// ---- Reading -------------------------------------------------------------------------------

TEST(TensorStoreTest, OpensSingleFile) {
  TempDir dir;
  Model model(3, 4);
  ASSERT_TRUE(model.writer().Write(dir / "model.safetensors").ok());
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->dir(), dir.path());
  EXPECT_THAT(store->TensorNames(), ElementsAre("t0", "t1", "t2"));
  EXPECT_TRUE(store->Contains("t1"));
  EXPECT_FALSE(store->Contains("t3"));
  EXPECT_EQ(store->total_bytes(), 3 * 4 * 4);
  ExpectValue(*store, "t2", 2.0f, 4);
}

TEST(TensorStoreTest, OpensHandWrittenIndex) {
  TempDir dir;
  WriteShard(dir / "part-a.safetensors", {"z.weight", "a.weight"});
  fs::create_directories(dir / "sub");
  WriteShard(dir / "sub" / "part-b.safetensors", {"m.weight", "not_in_index"});
  WriteFileOrDie(dir / "model.safetensors.index.json", R"({
    "metadata": {"total_size": 3},
    "weight_map": {"z.weight": "part-a.safetensors", "a.weight": "./part-a.safetensors",
                   "m.weight": "sub/part-b.safetensors"}})");
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  // Sorted, and only what the index lists.
  EXPECT_THAT(store->TensorNames(), ElementsAre("a.weight", "m.weight", "z.weight"));
  EXPECT_FALSE(store->Contains("not_in_index"));
  EXPECT_EQ(store->total_bytes(), 3);
  absl::StatusOr<TensorView> m = store->Get("m.weight");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->data[0], std::byte{42});
}

TEST(TensorStoreTest, IndexWinsOverSingleFile) {
  TempDir dir;
  WriteShard(dir / "model.safetensors", {"from_single"});
  WriteShard(dir / "shard.safetensors", {"from_index"});
  WriteFileOrDie(dir / "model.safetensors.index.json",
                 R"({"weight_map": {"from_index": "shard.safetensors"}})");
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->TensorNames(), ElementsAre("from_index"));
}

TEST(TensorStoreTest, EmptyDirIsNotFoundNamingTheDir) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(dir.path());
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr(dir.path().string()),
                                                                 HasSubstr("model.safetensors"))));

  store = TensorStore::OpenDir(dir / "missing");
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kNotFound, HasSubstr((dir / "missing").string())));
}

TEST(TensorStoreTest, GetUnknownTensorIsNotFoundNamingDirAndTensor) {
  TempDir dir;
  Model model(1, 1);
  ASSERT_TRUE(model.writer().Write(dir / "model.safetensors").ok());
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  absl::StatusOr<TensorView> t = store->Get("lm_head.weight");
  EXPECT_THAT(t, StatusIs(absl::StatusCode::kNotFound,
                          AllOf(HasSubstr(dir.path().string()), HasSubstr("\"lm_head.weight\""))));
}

TEST(TensorStoreTest, CorruptSingleFileNamesTheFile) {
  TempDir dir;
  WriteFileOrDie(dir / "model.safetensors", "short");
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(dir.path());
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss,
                              HasSubstr((dir / "model.safetensors").string())));
}

// ---- Index errors --------------------------------------------------------------------------

class TensorStoreIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteShard(dir_ / "shard.safetensors", {"w"}); }

  // OpenDir must fail with `code` and name the index file plus every part.
  void ExpectError(const std::string& index, absl::StatusCode code,
                   std::initializer_list<std::string> parts) {
    SCOPED_TRACE(index);
    WriteFileOrDie(dir_ / "model.safetensors.index.json", index);
    absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(dir_.path());
    ASSERT_THAT(store, StatusIs(code, HasSubstr((dir_ / "model.safetensors.index.json").string())));
    for (const std::string& part : parts) EXPECT_THAT(store.status().message(), HasSubstr(part));
  }

  TempDir dir_;
};

TEST_F(TensorStoreIndexTest, RejectsMalformedJson) {
  ExpectError(R"({"weight_map": {"w": "shard.safetensors",}})", absl::StatusCode::kDataLoss,
              {"not valid JSON", "line 1"});
  ExpectError("", absl::StatusCode::kDataLoss, {"not valid JSON"});
  ExpectError(R"(["w"])", absl::StatusCode::kDataLoss, {"is an array", "expected an object"});
}

TEST_F(TensorStoreIndexTest, RejectsMissingOrMistypedWeightMap) {
  ExpectError(R"({"metadata": {}})", absl::StatusCode::kDataLoss, {"missing \"weight_map\""});
  ExpectError(R"({"weight_map": ["w", "shard.safetensors"]})", absl::StatusCode::kDataLoss,
              {"\"weight_map\" is an array", "expected an object"});
  ExpectError(R"({"weight_map": {"w": 1}})", absl::StatusCode::kDataLoss,
              {"tensor \"w\"", "maps to a number"});
}

TEST_F(TensorStoreIndexTest, RejectsMissingShard) {
  ExpectError(R"({"weight_map": {"w": "shard.safetensors", "v": "gone.safetensors"}})",
              absl::StatusCode::kNotFound,
              {"tensor \"v\"", "shard \"gone.safetensors\"", "missing"});
}

TEST_F(TensorStoreIndexTest, RejectsShardThatLacksTheTensor) {
  ExpectError(R"({"weight_map": {"w": "shard.safetensors", "v": "shard.safetensors"}})",
              absl::StatusCode::kDataLoss,
              {"tensor \"v\"", "shard \"shard.safetensors\" does not contain it"});
}

TEST_F(TensorStoreIndexTest, RejectsShardPathsOutsideTheDir) {
  fs::create_directories(dir_ / "sub");
  WriteShard(dir_ / "sub" / "inner.safetensors", {"w"});
  ExpectError(R"({"weight_map": {"w": "../shard.safetensors"}})",
              absl::StatusCode::kInvalidArgument,
              {"tensor \"w\"", "\"../shard.safetensors\"", "not a relative path inside"});
  // Escapes even though it comes back: refused on its face.
  ExpectError(R"({"weight_map": {"w": "sub/../../x/shard.safetensors"}})",
              absl::StatusCode::kInvalidArgument, {"not a relative path inside"});
  ExpectError(R"({"weight_map": {"w": "/etc/passwd"}})", absl::StatusCode::kInvalidArgument,
              {"\"/etc/passwd\""});
  ExpectError(R"({"weight_map": {"w": ""}})", absl::StatusCode::kInvalidArgument, {"tensor \"w\""});
}

TEST_F(TensorStoreIndexTest, CorruptShardKeepsItsErrorAndNamesTheIndexEntry) {
  WriteFileOrDie(dir_ / "bad.safetensors", std::string(8, '\xff'));
  ExpectError(R"({"weight_map": {"w": "bad.safetensors"}})", absl::StatusCode::kDataLoss,
              {"tensor \"w\"", "shard \"bad.safetensors\"", (dir_ / "bad.safetensors").string(),
               "header length"});
}

TEST_F(TensorStoreIndexTest, ShardThatIsADirectoryIsAnError) {
  fs::create_directories(dir_ / "adir.safetensors");
  ExpectError(R"({"weight_map": {"w": "adir.safetensors"}})", absl::StatusCode::kFailedPrecondition,
              {"tensor \"w\"", "not a regular file"});
}

// ---- Writing -------------------------------------------------------------------------------

TEST(TensorStoreTest, WritesSingleFileWhenTensorsFit) {
  TempDir dir;
  Model model(3, 4);  // 48 bytes
  ASSERT_TRUE(WriteTensorsToDir(model.writer(), dir.path(), 48).ok());
  EXPECT_THAT(FilesIn(dir.path()), ElementsAre("model.safetensors"));
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->total_bytes(), 48);
}

TEST(TensorStoreTest, WritesShardsAndIndexAndReadsThemBack) {
  TempDir dir;
  Model model(5, 4);  // 5 tensors of 16 bytes; shards of at most 40 bytes hold two each
  ASSERT_TRUE(WriteTensorsToDir(model.writer(), dir / "out", 40).ok());
  EXPECT_THAT(FilesIn(dir / "out"),
              ElementsAre("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                          "model-00003-of-00003.safetensors", "model.safetensors.index.json"));

  const nlohmann::json index = nlohmann::json::parse(
      ReadFileOrDie(dir / "out" / "model.safetensors.index.json"), nullptr, false);
  ASSERT_TRUE(index.is_object());
  EXPECT_EQ(index["metadata"]["total_size"], 80);
  EXPECT_EQ(index["weight_map"]["t0"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["t1"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["t2"], "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["t4"], "model-00003-of-00003.safetensors");

  std::unique_ptr<TensorStore> store = OpenOrDie(dir / "out");
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->TensorNames(), ElementsAre("t0", "t1", "t2", "t3", "t4"));
  EXPECT_EQ(store->total_bytes(), 80);
  for (int i = 0; i < 5; ++i) ExpectValue(*store, absl::StrCat("t", i), i, 4);

  // Each shard is a complete safetensors file with the writer's metadata.
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> shard =
      SafetensorsFile::Open(dir / "out" / "model-00002-of-00003.safetensors");
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_THAT((*shard)->TensorNames(), ElementsAre("t2", "t3"));
  EXPECT_EQ((*shard)->metadata().at("format"), "pt");
}

TEST(TensorStoreTest, OversizedTensorGetsAShardOfItsOwn) {
  TempDir dir;
  const std::vector<std::byte> small(10), big(100);
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.Add("small", DType::kU8, {10}, small).ok());
  ASSERT_TRUE(writer.Add("big", DType::kI32, {25}, big).ok());
  ASSERT_TRUE(WriteTensorsToDir(writer, dir.path(), 50).ok());
  EXPECT_THAT(FilesIn(dir.path()),
              ElementsAre("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                          "model.safetensors.index.json"));
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->total_bytes(), 110);

  // A lone tensor over the limit still makes a single file: there is nothing to split.
  TempDir one;
  SafetensorsWriter single;
  ASSERT_TRUE(single.Add("big", DType::kI32, {25}, big).ok());
  ASSERT_TRUE(WriteTensorsToDir(single, one.path(), 50).ok());
  EXPECT_THAT(FilesIn(one.path()), ElementsAre("model.safetensors"));
}

TEST(TensorStoreTest, RewritingRemovesStaleFilesOnly) {
  TempDir dir;
  WriteFileOrDie(dir / "config.json", "{}");
  WriteFileOrDie(dir / "model_draft.safetensors", "not ours");
  WriteFileOrDie(dir / "model-extra.safetensors", "not a shard name");

  Model three(3, 4);
  ASSERT_TRUE(WriteTensorsToDir(three.writer(), dir.path(), 16).ok());  // three shards
  EXPECT_TRUE(fs::exists(dir / "model-00003-of-00003.safetensors"));

  Model two(4, 4);
  ASSERT_TRUE(WriteTensorsToDir(two.writer(), dir.path(), 32).ok());  // two shards
  EXPECT_THAT(FilesIn(dir.path()),
              ElementsAre("config.json", "model-00001-of-00002.safetensors",
                          "model-00002-of-00002.safetensors", "model-extra.safetensors",
                          "model.safetensors.index.json", "model_draft.safetensors"));
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->TensorNames(), ElementsAre("t0", "t1", "t2", "t3"));

  Model one(2, 4);
  ASSERT_TRUE(WriteTensorsToDir(one.writer(), dir.path()).ok());  // single file
  EXPECT_THAT(FilesIn(dir.path()), ElementsAre("config.json", "model-extra.safetensors",
                                               "model.safetensors", "model_draft.safetensors"));
  store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->TensorNames(), ElementsAre("t0", "t1"));

  ASSERT_TRUE(WriteTensorsToDir(three.writer(), dir.path(), 16).ok());  // sharded again
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->TensorNames(), ElementsAre("t0", "t1", "t2"));
}

TEST(TensorStoreTest, WritesEmptyModel) {
  TempDir dir;
  SafetensorsWriter writer;
  ASSERT_TRUE(WriteTensorsToDir(writer, dir.path(), 1).ok());
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->TensorNames(), IsEmpty());
  EXPECT_EQ(store->total_bytes(), 0);
}

TEST(TensorStoreTest, WriteRejectsNonPositiveShardSize) {
  TempDir dir;
  Model model(1, 1);
  absl::Status s = WriteTensorsToDir(model.writer(), dir.path(), 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("max_shard_bytes"));
  EXPECT_THAT(FilesIn(dir.path()), IsEmpty());
}

TEST(TensorStoreTest, ViewsStayValidWhileTheStoreLivesEvenIfTheDirIsRewritten) {
  TempDir dir;
  Model before(2, 8);
  ASSERT_TRUE(WriteTensorsToDir(before.writer(), dir.path(), 32).ok());  // two shards
  std::unique_ptr<TensorStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  absl::StatusOr<TensorView> t1 = store->Get("t1");
  ASSERT_TRUE(t1.ok()) << t1.status();
  Model after(1, 2);
  ASSERT_TRUE(WriteTensorsToDir(after.writer(), dir.path()).ok());  // removes the shards
  EXPECT_EQ(ToFloat32Vector(*t1), std::vector<float>(8, 1.0f));
}

}  // namespace
}  // namespace accllm
