#include "client/eval/perplexity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "client/eval/evaluation.h"
#include "client/eval/lambda_pager.h"
#include "model/model_dir.h"
#include "model/synth.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int32_t> Iota(int32_t n, int32_t first = 0) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = first + i;
  return ids;
}

std::vector<size_t> Sizes(const std::vector<std::vector<int32_t>>& windows) {
  std::vector<size_t> sizes;
  for (const auto& w : windows) sizes.push_back(w.size());
  return sizes;
}

// --- window splitting -------------------------------------------------------------------------

TEST(SplitIntoWindowsTest, TextShorterThanTheContextIsOneWindow) {
  absl::StatusOr<std::vector<std::vector<int32_t>>> w = SplitIntoWindows(Iota(5), 8);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0], Iota(5));
}

TEST(SplitIntoWindowsTest, AnExactMultipleGivesFullWindowsOnly) {
  absl::StatusOr<std::vector<std::vector<int32_t>>> w = SplitIntoWindows(Iota(24), 8);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(Sizes(*w), ElementsAre(8, 8, 8));
  EXPECT_EQ((*w)[0], Iota(8, 0));
  EXPECT_EQ((*w)[1], Iota(8, 8));
  EXPECT_EQ((*w)[2], Iota(8, 16));
}

TEST(SplitIntoWindowsTest, AOneTokenTailIsDroppedATwoTokenTailKept) {
  absl::StatusOr<std::vector<std::vector<int32_t>>> one = SplitIntoWindows(Iota(17), 8);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_THAT(Sizes(*one), ElementsAre(8, 8));
  absl::StatusOr<std::vector<std::vector<int32_t>>> two = SplitIntoWindows(Iota(18), 8);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_THAT(Sizes(*two), ElementsAre(8, 8, 2));
  EXPECT_EQ((*two)[2], Iota(2, 16));
}

TEST(SplitIntoWindowsTest, ContextTwoPredictsEveryOtherToken) {
  absl::StatusOr<std::vector<std::vector<int32_t>>> w = SplitIntoWindows(Iota(7), 2);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(Sizes(*w), ElementsAre(2, 2, 2));  // the 7th token alone is dropped
}

TEST(SplitIntoWindowsTest, ContextBelowTwoIsRejected) {
  EXPECT_THAT(SplitIntoWindows(Iota(10), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--context")));
  EXPECT_THAT(SplitIntoWindows(Iota(10), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--context")));
  EXPECT_THAT(SplitIntoWindows(Iota(10), -4),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--context")));
}

// --- scoring on the tiny synth model ------------------------------------------------------------

class PerplexityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    absl::StatusOr<ModelConfig> config = SynthShape("tiny");
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(WriteSynthModel(*config, *tmp_ / "tiny", {.seed = 5, .dtype = std::nullopt}).ok());
    absl::StatusOr<ModelDir> dir = OpenModelDir(*tmp_ / "tiny");
    ASSERT_TRUE(dir.ok()) << dir.status();
    absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = model->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete tmp_;
  }

  // A stream the model itself wrote (so the NLL is not that of uniform noise), `n` tokens.
  static std::vector<int32_t> Stream(int64_t n, uint64_t seed) {
    absl::StatusOr<std::vector<int32_t>> s = SampleConcatenatedStream(*model_, n, seed);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : std::vector<int32_t>();
  }
  static std::string ModelPath() { return (*tmp_ / "tiny").string(); }
  // A request for the tiny model reading `ids_file` (or `text_file`), the other flags default.
  static PerplexityRequest Request(const std::string& ids_file, const std::string& text_file = "") {
    PerplexityRequest r;
    r.model = ModelPath();
    r.ids_file = ids_file;
    r.text_file = text_file;
    return r;
  }
  static std::string Write(const std::string& name, const std::string& bytes) {
    testing::WriteFileOrDie(*tmp_ / name, bytes);
    return (*tmp_ / name).string();
  }

  static testing::TempDir* tmp_;
  static LlamaModel* model_;
};

testing::TempDir* PerplexityTest::tmp_ = nullptr;
LlamaModel* PerplexityTest::model_ = nullptr;

// ForwardBatch's logits equal Forward's bit for bit and the NLLs are summed in Evaluate's order,
// so the two agree exactly; the relative bound says how far off a failure is.
void ExpectSameNll(double a, double b) {
  EXPECT_LE(std::abs(a - b), 1e-9 * std::abs(b)) << a << " vs " << b;
  EXPECT_EQ(a, b);
}

TEST_F(PerplexityTest, DenseEqualsEvaluateOnTheSameWindowsAtEveryBatchSize) {
  const std::vector<int32_t> ids = Stream(150, 11);
  absl::StatusOr<std::vector<std::vector<int32_t>>> windows = SplitIntoWindows(ids, 64);
  ASSERT_TRUE(windows.ok());
  ASSERT_THAT(Sizes(*windows), ElementsAre(64, 64, 22));
  absl::StatusOr<EvalReport> eval = Evaluate(*model_, *model_, *windows, {});
  ASSERT_TRUE(eval.ok()) << eval.status();
  for (int32_t batch : {1, 2, 3, 8}) {
    SCOPED_TRACE(batch);
    PerplexityOptions options;
    options.context = 64;
    options.batch = batch;
    absl::StatusOr<PerplexityReport> r = Perplexity(*model_, ids, options);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->windows, 3);
    EXPECT_EQ(r->tokens, 63 + 63 + 21);
    EXPECT_EQ(r->tokens, eval->tokens);
    ExpectSameNll(r->nll, eval->nll_model);
    EXPECT_DOUBLE_EQ(r->ppl, std::exp(r->nll));
    EXPECT_EQ(r->attention, "dense");
  }
}

TEST_F(PerplexityTest, LambdaEqualsEvaluateWithTheSamePaging) {
  const std::vector<int32_t> ids = Stream(130, 12);
  absl::StatusOr<std::vector<std::vector<int32_t>>> windows = SplitIntoWindows(ids, 96);
  ASSERT_TRUE(windows.ok());
  const AttentionWindow lambda = AttentionWindow::Lambda(4, 20);
  EvalOptions eval_options;
  eval_options.page_size = 8;
  ASSERT_TRUE(ConfigureLambdaPaging(lambda, 96, &eval_options).ok());
  absl::StatusOr<EvalReport> eval = Evaluate(*model_, *model_, *windows, eval_options);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_GT(eval->kl_mean, 0.0);  // the window drops context: not the dense result
  for (int32_t batch : {1, 2}) {
    SCOPED_TRACE(batch);
    PerplexityOptions options;
    options.context = 96;
    options.batch = batch;
    options.attention = lambda;
    options.page_size = 8;
    absl::StatusOr<PerplexityReport> r = Perplexity(*model_, ids, options);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->tokens, eval->tokens);
    ExpectSameNll(r->nll, eval->nll_model);
    EXPECT_EQ(r->attention, "lambda:4,20");
  }
}

TEST_F(PerplexityTest, EachWindowIsScoredOnItsOwn) {
  // Two windows scored together give the token-weighted mean of each scored alone.
  const std::vector<int32_t> ids = Stream(40, 13);
  PerplexityOptions options;
  options.context = 20;
  options.batch = 2;
  absl::StatusOr<PerplexityReport> both = Perplexity(*model_, ids, options);
  ASSERT_TRUE(both.ok()) << both.status();
  const std::vector<int32_t> first(ids.begin(), ids.begin() + 20),
      second(ids.begin() + 20, ids.end());
  absl::StatusOr<PerplexityReport> a = Perplexity(*model_, first, options);
  absl::StatusOr<PerplexityReport> b = Perplexity(*model_, second, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(both->tokens, 38);
  EXPECT_NEAR(both->nll, (a->nll + b->nll) / 2, 1e-12);
}

TEST_F(PerplexityTest, TextIsTokenizedWithTheModelsTokenizer) {
  const std::string text = "the quick brown fox jumps over the lazy dog, again and again.";
  const std::string path = Write("fox.txt", text);
  absl::StatusOr<ModelDir> dir = OpenModelDir(ModelPath());
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::vector<int32_t>> expected = dir->tokenizer->Encode(text, true);
  ASSERT_TRUE(expected.ok());
  absl::StatusOr<std::vector<int32_t>> ids = LoadPerplexityTokens(*dir, path, "");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, *expected);

  // The same tokens given as ids score the same.
  const std::string ids_path = Write("fox.ids", absl::StrJoin(*expected, " "));
  PerplexityRequest request = Request("", path);
  request.context = 8;
  request.batch = 2;
  absl::StatusOr<PerplexityReport> from_text = RunPerplexity(request);
  ASSERT_TRUE(from_text.ok()) << from_text.status();
  request.text_file.clear();
  request.ids_file = ids_path;
  absl::StatusOr<PerplexityReport> from_ids = RunPerplexity(request);
  ASSERT_TRUE(from_ids.ok()) << from_ids.status();
  EXPECT_EQ(from_text->nll, from_ids->nll);
  EXPECT_EQ(from_text->tokens, from_ids->tokens);
  EXPECT_GT(from_text->ppl, 1.0);
}

// --- bad input ---------------------------------------------------------------------------------

TEST_F(PerplexityTest, AMissingFileIsNotFoundNamingTheFlag) {
  PerplexityRequest request = Request((*tmp_ / "absent.ids").string());
  EXPECT_THAT(RunPerplexity(request),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::AllOf(HasSubstr("--ids-file"), HasSubstr("absent.ids"))));
  request.ids_file.clear();
  request.text_file = (*tmp_ / "absent.txt").string();
  EXPECT_THAT(RunPerplexity(request),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::AllOf(HasSubstr("--text-file"), HasSubstr("absent.txt"))));
}

TEST_F(PerplexityTest, AnEmptyFileIsRejectedNamingTheFlag) {
  PerplexityRequest request = Request(Write("empty.ids", " \n"));
  EXPECT_THAT(RunPerplexity(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("--ids-file"), HasSubstr("empty"))));
  request.ids_file.clear();
  request.text_file = Write("empty.txt", "");
  EXPECT_THAT(RunPerplexity(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("--text-file"), HasSubstr("empty"))));
}

TEST_F(PerplexityTest, TooFewOrBadIdsAreRejectedNamingTheFlag) {
  PerplexityRequest request = Request(Write("one.ids", "7"));
  EXPECT_THAT(RunPerplexity(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("--ids-file"), HasSubstr("at least 2"))));
  request.ids_file = Write("bad.ids", "1 2 99999");
  EXPECT_THAT(RunPerplexity(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("--ids-file"), HasSubstr("99999"))));
}

TEST_F(PerplexityTest, ContextBelowTwoIsRejectedNamingTheFlag) {
  const std::string ids = Write("ok.ids", "1 2 3 4 5");
  for (int64_t context : {1, 0, -1}) {
    PerplexityRequest request = Request(ids);
    request.context = context;
    EXPECT_THAT(RunPerplexity(request),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--context")));
  }
  PerplexityOptions options;
  options.context = 1;
  EXPECT_THAT(Perplexity(*model_, Iota(5), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--context")));
}

TEST_F(PerplexityTest, AnUnknownAttentionIsRejectedNamingTheFlag) {
  const std::string ids = Write("ok2.ids", "1 2 3 4 5");
  for (const char* attention : {"sparse", "window:0", "lambda:4", "lambda:8,4"}) {
    SCOPED_TRACE(attention);
    PerplexityRequest request = Request(ids);
    request.attention = attention;
    EXPECT_THAT(RunPerplexity(request),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--attention")));
  }
}

TEST_F(PerplexityTest, ExactlyOneInputAndAModelAndAPositiveBatch) {
  const std::string ids = Write("ok3.ids", "1 2 3 4 5");
  EXPECT_THAT(RunPerplexity(Request("")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("--text-file"), HasSubstr("--ids-file"))));
  EXPECT_THAT(RunPerplexity(Request(ids, ids)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exactly one")));
  PerplexityRequest no_model = Request(ids);
  no_model.model.clear();
  EXPECT_THAT(RunPerplexity(no_model),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--model")));
  PerplexityRequest no_batch = Request(ids);
  no_batch.batch = 0;
  EXPECT_THAT(RunPerplexity(no_batch),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--batch")));
}

}  // namespace
}  // namespace accllm
