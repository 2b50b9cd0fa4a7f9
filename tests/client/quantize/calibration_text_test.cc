// Calibration sequences from real text and id streams: the split, and every refusal naming
// what is wrong (the file, how many tokens it has against how many are needed).
#include "client/quantize/calibration_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "model/model_dir.h"  // OpenModelDir
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"  // SharedModelDir, TempDir

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(CalibrationTextTest, SplitsTheStreamIntoBosPrefixedPieces) {
  const std::vector<int32_t> ids = {10, 11, 12, 13, 14, 15, 16};
  absl::StatusOr<std::vector<std::vector<int32_t>>> seqs =
      SplitCalibrationStream(ids, 1, 2, 4, "ids");
  ASSERT_TRUE(seqs.ok()) << seqs.status();
  EXPECT_THAT(*seqs, ElementsAre(ElementsAre(1, 10, 11, 12), ElementsAre(1, 13, 14, 15)));
  EXPECT_THAT(SplitCalibrationStream(ids, 1, 3, 4, "--calib-text short.txt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--calib-text short.txt"), HasSubstr("gives 7 tokens"),
                             HasSubstr("9 needed"))));
}

TEST(CalibrationTextTest, TextIsEncodedWithTheModelsTokenizer) {
  std::optional<std::filesystem::path> docs = ::accllm::testing::SharedModelDir("docs27m");
  if (!docs) GTEST_SKIP() << "../shared/models/docs27m not found";
  absl::StatusOr<ModelDir> dir = OpenModelDir(*docs);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_NE(dir->tokenizer, nullptr);
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "The quick brown fox jumps over the lazy dog.\n";
  WriteFile(tmp.path() / "t.txt", text);
  absl::StatusOr<std::vector<std::vector<int32_t>>> seqs =
      CalibrationFromText(*dir, (tmp.path() / "t.txt").string(), 3, 32);
  ASSERT_TRUE(seqs.ok()) << seqs.status();
  absl::StatusOr<std::vector<int32_t>> ids = dir->tokenizer->Encode(text, false);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(seqs->size(), 3u);
  for (size_t s = 0; s < 3; ++s) {
    ASSERT_EQ((*seqs)[s].size(), 32u);
    EXPECT_EQ((*seqs)[s][0], dir->tokenizer->bos_id());
    EXPECT_TRUE(std::equal((*seqs)[s].begin() + 1, (*seqs)[s].end(), ids->begin() + s * 31));
  }
  // Too short: the message names the file and both counts.
  WriteFile(tmp.path() / "short.txt", "Hello world.\n");
  EXPECT_THAT(CalibrationFromText(*dir, (tmp.path() / "short.txt").string(), 16, 256),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("short.txt"), HasSubstr("tokens, 4080 needed"))));
  EXPECT_THAT(CalibrationFromText(*dir, (tmp.path() / "missing.txt").string(), 16, 256),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.txt")));
  EXPECT_THAT(CalibrationFromText(*dir, (tmp.path() / "t.txt").string(), 2, 5000),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--calib-length")));
  EXPECT_THAT(CalibrationFromText(*dir, (tmp.path() / "t.txt").string(), 0, 32),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--calib-samples")));
}

TEST(CalibrationTextTest, IdStreamsAndTheirRefusals) {
  std::optional<std::filesystem::path> docs = ::accllm::testing::SharedModelDir("docs27m");
  if (!docs) GTEST_SKIP() << "../shared/models/docs27m not found";
  absl::StatusOr<ModelDir> dir = OpenModelDir(*docs);
  ASSERT_TRUE(dir.ok()) << dir.status();
  TempDir tmp;
  WriteFile(tmp.path() / "ids.txt", "1 5 6 7\n8 9 10 11\n");  // a leading BOS is dropped
  absl::StatusOr<std::vector<std::vector<int32_t>>> seqs =
      CalibrationFromIds(*dir, (tmp.path() / "ids.txt").string(), 2, 4);
  ASSERT_TRUE(seqs.ok()) << seqs.status();
  EXPECT_THAT(*seqs, ElementsAre(ElementsAre(1, 5, 6, 7), ElementsAre(1, 8, 9, 10)));
  EXPECT_THAT(CalibrationFromIds(*dir, (tmp.path() / "ids.txt").string(), 3, 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--calib-ids"), HasSubstr("gives 7 tokens, 9 needed"))));
  WriteFile(tmp.path() / "bad.txt", "5 6 99999\n");
  EXPECT_THAT(CalibrationFromIds(*dir, (tmp.path() / "bad.txt").string(), 1, 3),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("bad.txt"), HasSubstr("99999"))));
  EXPECT_THAT(CalibrationFromIds(*dir, (tmp.path() / "none.txt").string(), 1, 3),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.txt")));
}

}  // namespace
}  // namespace accllm
