#include "client/eval/evaluation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/llama2c_checkpoint.h"
#include "model/model_dir.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/ring_pager.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"
#include "workers/backend/sampler.h"    // Sampler
#include "workers/engine/kv_factory.h"  // MakeSequenceKv

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

class EvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Llama2cShape shape;
    shape.seq_len = 128;
    testing::WriteRandomLlama2c(tmp_ / "m.bin", shape, 31, 0.3f);
    Llama2cImportOptions f16;
    f16.dtype = DType::kF16;
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "f32", {}).ok());
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "f16", f16).ok());
    f32_ = Load("f32");
    f16_ = Load("f16");
  }
  std::unique_ptr<LlamaModel> Load(const char* sub) {
    absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / sub);
    EXPECT_TRUE(dir.ok()) << dir.status();
    return *LlamaModel::Load(*dir);
  }
  testing::TempDir tmp_;
  std::unique_ptr<LlamaModel> f32_, f16_;
};

TEST_F(EvaluationTest, AModelAgainstItselfHasZeroKlAndFullAgreement) {
  auto streams = SampleStreams(*f32_, 2, 40, 7);
  ASSERT_TRUE(streams.ok()) << streams.status();
  absl::StatusOr<EvalReport> r = Evaluate(*f32_, *f32_, *streams, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->tokens, 2 * 39);
  EXPECT_NEAR(r->kl_mean, 0.0, 1e-9);
  EXPECT_EQ(r->top1_agreement, 1.0);
  EXPECT_DOUBLE_EQ(r->nll_model, r->nll_reference);
  EXPECT_GT(r->nll_model, 0.0);
}

TEST_F(EvaluationTest, HalfPrecisionWeightsCostALittle) {
  auto streams = SampleStreams(*f32_, 2, 60, 8);
  ASSERT_TRUE(streams.ok());
  absl::StatusOr<EvalReport> r = Evaluate(*f16_, *f32_, *streams, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->kl_mean, 0.0);
  EXPECT_LT(r->kl_mean, 1e-4);
  EXPECT_GT(r->top1_agreement, 0.95);
}

TEST_F(EvaluationTest, LambdaWithAWindowCoveringTheStreamEqualsDense) {
  auto streams = SampleStreams(*f32_, 1, 100, 9);
  ASSERT_TRUE(streams.ok());
  EvalOptions lambda;
  lambda.attention = AttentionWindow::Lambda(4, 16);
  lambda.page_size = 8;
  lambda.num_pages = 64;
  lambda.chunk = 7;
  lambda.make_pager = [&] { return std::make_unique<testing::RingPager>(64, 8, lambda.attention); };
  absl::StatusOr<EvalReport> narrow = Evaluate(*f32_, *f32_, *streams, lambda);
  ASSERT_TRUE(narrow.ok()) << narrow.status();
  EXPECT_GT(narrow->kl_mean, 0.0);  // the window drops context
  EXPECT_LE(narrow->max_pages_per_sequence, 1 + 2 + 1 + 1);
  lambda.attention = AttentionWindow::Lambda(4, 128);
  absl::StatusOr<EvalReport> wide = Evaluate(*f32_, *f32_, *streams, lambda);
  ASSERT_TRUE(wide.ok());
  EXPECT_NEAR(wide->kl_mean, 0.0, 1e-9);
}

TEST_F(EvaluationTest, SamplingIsSeededAndConcatenationFillsTheLength) {
  auto a = SampleStreams(*f32_, 2, 30, 5), b = SampleStreams(*f32_, 2, 30, 5);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE((*a)[0], (*a)[1]);
  EXPECT_EQ((*a)[0][0], f32_->config().bos_token_id);
  auto stream = SampleConcatenatedStream(*f32_, 300, 3);
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(stream->size(), 300u);
  // Samples are at most the trained context (128) long, so BOS starts at least 3.
  EXPECT_GE(std::count(stream->begin(), stream->end(), f32_->config().bos_token_id), 3);
}

// SampleStreams decodes the streams together (one ForwardBatch per step); each stream is the
// one decoding it alone with its seed gives, token for token.
TEST_F(EvaluationTest, StreamsSampledTogetherEqualStreamsSampledAlone) {
  const uint64_t seed = 11;
  auto together = SampleStreams(*f32_, 3, 50, seed);
  ASSERT_TRUE(together.ok()) << together.status();
  const ModelConfig& c = f32_->config();
  for (int32_t i = 0; i < 3; ++i) {
    Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = seed * 1000003 + i});
    std::unique_ptr<SequenceKv> kv = MakeSequenceKv(*f32_, 50);
    std::vector<float> logits(c.vocab_size);
    std::vector<int32_t> alone = {c.bos_token_id};
    for (int64_t pos = 0; pos + 1 < 50; ++pos) {
      ASSERT_TRUE(f32_->Forward(alone.back(), pos, *kv, logits).ok());
      alone.push_back(sampler.Sample(logits));
    }
    EXPECT_EQ((*together)[i], alone) << "stream " << i;
  }
}

// Evaluate runs each chunk as batched prefill; its NLL is the token-by-token one's, exactly.
TEST_F(EvaluationTest, BatchedPrefillNllEqualsTokenByToken) {
  auto streams = SampleStreams(*f32_, 1, 90, 12);
  ASSERT_TRUE(streams.ok());
  EvalOptions options;
  options.chunk = 32;
  absl::StatusOr<EvalReport> r = Evaluate(*f16_, *f32_, *streams, options);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<int32_t>& s = (*streams)[0];
  std::unique_ptr<SequenceKv> kv = MakeSequenceKv(*f16_, 90);
  std::vector<float> logits(f16_->config().vocab_size);
  double nll = 0;
  for (size_t pos = 0; pos + 1 < s.size(); ++pos) {
    ASSERT_TRUE(f16_->Forward(s[pos], static_cast<int64_t>(pos), *kv, logits).ok());
    const float max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float v : logits) sum += std::exp(double(v) - max);
    nll += max + std::log(sum) - logits[s[pos + 1]];
  }
  EXPECT_EQ(r->nll_model, nll / static_cast<double>(s.size() - 1));
}

TEST_F(EvaluationTest, NllBySegmentCoversEveryPredictedPosition) {
  auto stream = SampleConcatenatedStream(*f32_, 600, 4);
  ASSERT_TRUE(stream.ok());
  absl::StatusOr<EvalReport> r = Evaluate(*f32_, *f32_, {*stream}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tokens, 599);
  EXPECT_EQ(r->nll_by_segment.size(), 3u);  // positions 1..255, 256..511, 512..599
  const double weighted =
      (r->nll_by_segment[0] * 255 + r->nll_by_segment[1] * 256 + r->nll_by_segment[2] * 88) / 599;
  EXPECT_NEAR(weighted, r->nll_model, 1e-9);
}

TEST_F(EvaluationTest, BadInputsGiveClearErrors) {
  EXPECT_THAT(std::string(SampleStreams(*f32_, 1, 129, 0).status().message()),
              HasSubstr("trained context"));
  EXPECT_THAT(
      SampleStreams(*f32_, 0, 10, 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--streams must be positive, got 0")));
  testing::WriteFileOrDie(tmp_ / "s.txt", "1 2 3 x 4");
  EXPECT_THAT(std::string(ReadStreamFile((tmp_ / "s.txt").string(), 64).status().message()),
              HasSubstr("item 4 \"x\""));
  testing::WriteFileOrDie(tmp_ / "s.txt", "1 2 64");
  EXPECT_THAT(ReadStreamFile((tmp_ / "s.txt").string(), 64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("s.txt: item 3 \"64\"")));
  testing::WriteFileOrDie(tmp_ / "s.txt", "1\n2\t3 ");
  EXPECT_EQ(*ReadStreamFile((tmp_ / "s.txt").string(), 64), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_THAT(ReadStreamFile((tmp_ / "nope.txt").string(), 64),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.txt")));
}

TEST(ParseAttentionTest, AcceptsTheThreeFormsAndRejectsTheRest) {
  EXPECT_TRUE(ParseAttention("dense")->dense);
  absl::StatusOr<AttentionWindow> w = ParseAttention("window:64");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->sinks, 0);
  EXPECT_EQ(w->window, 64);
  absl::StatusOr<AttentionWindow> l = ParseAttention("lambda:4,128");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->sinks, 4);
  EXPECT_EQ(l->window, 128);
  for (const char* bad : {"", "window:", "window:0", "lambda:4", "lambda:-1,8", "lambda:4,x",
                          "sparse", "lambda:1,2,3"}) {
    EXPECT_THAT(ParseAttention(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(std::string("--attention must be dense, window:W or lambda:S,W "
                                               "with W >= 1, got \"") +
                                   bad + "\"")));
  }
}

}  // namespace
}  // namespace accllm
