// The Worker.Step wire codec at both edges: the worker's checks of a step it is sent
// (DecodeStep) and the server's checks of the reply it gets back (DecodeStepOutput).
// Every malformed message is an error with the right code and a message that names
// what is wrong, never a crash and never a token handed to the wrong stream.
#include "common/step_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace accllm {
namespace {

using ::testing::HasSubstr;

constexpr StepLimits kLimits = {.vocab_size = 100, .num_pages = 8, .page_size = 4};

// A well-formed step: sequence 7 prefills 6 tokens over pages 0..1 (physical 3 and 5) with
// one copy-on-write, then samples; sequence 9 decodes one token without sampling.
v1::StepRequest GoodStep() {
  scheduler::StepBatch batch;
  scheduler::SequenceChunk a;
  a.request_id = 7;
  a.tokens = {1, 2, 3, 4, 5, 6};
  a.first_position = 0;
  a.pages = {{0, 3}, {1, 5}};
  a.page_copies = {{2, 5}};
  a.attention = AttentionWindow::Lambda(2, 8);
  a.page_size = 4;
  a.sample = true;
  a.sampling = {.temperature = 0.7f, .top_k = 5, .top_p = 0.9f, .seed = 11};
  a.sample_position = 6;
  scheduler::SequenceChunk b;
  b.request_id = 9;
  b.tokens = {42};
  b.first_position = 4;
  b.attention = AttentionWindow::Dense();
  b.page_size = 4;
  b.pages = {{0, 0}, {1, 6}};
  batch.chunks = {a, b};
  v1::StepRequest out;
  EncodeStep(batch, "tiny", 3, &out);
  return out;
}

TEST(DecodeStepTest, AWellFormedStepRoundTrips) {
  absl::StatusOr<scheduler::StepBatch> batch = DecodeStep(GoodStep(), kLimits);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->chunks.size(), 2u);
  const scheduler::SequenceChunk& a = batch->chunks[0];
  EXPECT_EQ(a.request_id, 7u);
  EXPECT_EQ(a.tokens, (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a.pages, (std::vector<scheduler::PageRef>{{0, 3}, {1, 5}}));
  EXPECT_EQ(a.page_copies, (std::vector<scheduler::PageCopy>{{2, 5}}));
  EXPECT_TRUE(a.sample);
  EXPECT_EQ(a.sample_position, 6);
  EXPECT_EQ(a.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(a.sampling.top_p, 0.9f);
  EXPECT_EQ(a.sampling.seed, 11u);
  EXPECT_EQ(a.attention, AttentionWindow::Lambda(2, 8));
  EXPECT_EQ(a.page_size, 4);
  EXPECT_FALSE(batch->chunks[1].sample);
  EXPECT_TRUE(batch->chunks[1].attention.dense);
}

struct BadStep {
  std::string name;
  std::function<void(v1::StepRequest&)> edit;
  std::string words;  // what the message must say
};

// gtest prints a case by its name (not as raw bytes in the test list).
void PrintTo(const BadStep& c, std::ostream* os) { *os << c.name; }

class DecodeStepRejects : public ::testing::TestWithParam<BadStep> {};

TEST_P(DecodeStepRejects, WithInvalidArgumentNamingTheField) {
  v1::StepRequest request = GoodStep();
  GetParam().edit(request);
  absl::StatusOr<scheduler::StepBatch> batch = DecodeStep(request, kLimits);
  ASSERT_FALSE(batch.ok()) << GetParam().name;
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument) << batch.status();
  EXPECT_THAT(std::string(batch.status().message()), HasSubstr(GetParam().words));
}

v1::SequenceChunk& First(v1::StepRequest& r) { return *r.mutable_chunks(0); }
v1::SequenceChunk& Second(v1::StepRequest& r) { return *r.mutable_chunks(1); }

INSTANTIATE_TEST_SUITE_P(
    MalformedSteps, DecodeStepRejects,
    ::testing::Values(
        BadStep{"EmptyTokens", [](v1::StepRequest& r) { First(r).clear_tokens(); },
                "tokens is empty"},
        BadStep{"NegativeToken", [](v1::StepRequest& r) { First(r).set_tokens(2, -1); },
                "token -1 is outside the vocabulary [0, 100)"},
        BadStep{"TokenPastTheVocabulary", [](v1::StepRequest& r) { First(r).set_tokens(0, 100); },
                "token 100 is outside the vocabulary"},
        BadStep{"NegativePosition", [](v1::StepRequest& r) { Second(r).set_first_position(-1); },
                "first_position -1 is negative"},
        BadStep{"PositionThatOverflows",
                [](v1::StepRequest& r) {
                  First(r).set_first_position(std::numeric_limits<int64_t>::max() - 2);
                },
                "first_position"},
        BadStep{"UnsortedPages",
                [](v1::StepRequest& r) {
                  First(r).mutable_pages(0)->set_logical(1);
                  First(r).mutable_pages(1)->set_logical(0);
                },
                "pages must be sorted by logical index, without repeats"},
        BadStep{"RepeatedPage",
                [](v1::StepRequest& r) { First(r).mutable_pages(1)->set_logical(0); },
                "without repeats"},
        BadStep{"NegativeLogicalPage",
                [](v1::StepRequest& r) { Second(r).mutable_pages(0)->set_logical(-1); },
                "logical page -1"},
        BadStep{"PhysicalPageOutsideThePool",
                [](v1::StepRequest& r) { First(r).mutable_pages(1)->set_physical(8); },
                "physical page 8 is outside the pool [0, 8)"},
        BadStep{"NegativePhysicalPage",
                [](v1::StepRequest& r) { First(r).mutable_pages(0)->set_physical(-3); },
                "physical page -3"},
        BadStep{"CopySourceOutsideThePool",
                [](v1::StepRequest& r) { First(r).mutable_copies(0)->set_from(8); },
                "physical page 8 is outside the pool"},
        BadStep{"CopyTargetOutsideThePool",
                [](v1::StepRequest& r) { First(r).mutable_copies(0)->set_to(-1); },
                "physical page -1 is outside the pool"},
        BadStep{"CopyOntoItself",
                [](v1::StepRequest& r) { First(r).mutable_copies(0)->set_from(5); },
                "page copy 5 → 5"},
        BadStep{"AttentionUnset", [](v1::StepRequest& r) { First(r).clear_attention(); },
                "attention is unset"},
        BadStep{"ZeroWindow",
                [](v1::StepRequest& r) { First(r).mutable_attention()->mutable_lambda()->set_window(0); },
                "attention window must be at least 1"},
        BadStep{"MoreSinksThanWindow",
                [](v1::StepRequest& r) { First(r).mutable_attention()->mutable_lambda()->set_sinks(9); },
                "must not exceed the window"},
        BadStep{"NegativeTemperature",
                [](v1::StepRequest& r) { First(r).mutable_sampling()->set_temperature(-0.5f); },
                "sampling.temperature -0.5 is outside [0, 100]"},
        BadStep{"NanTemperature",
                [](v1::StepRequest& r) { First(r).mutable_sampling()->set_temperature(NAN); },
                "sampling.temperature"},
        BadStep{"HugeTemperature",
                [](v1::StepRequest& r) { First(r).mutable_sampling()->set_temperature(101); },
                "sampling.temperature 101"},
        BadStep{"NegativeTopK",
                [](v1::StepRequest& r) { First(r).mutable_sampling()->set_top_k(-1); },
                "sampling.top_k is negative"},
        BadStep{"TopPAboveOne",
                [](v1::StepRequest& r) { First(r).mutable_sampling()->set_top_p(1.5f); },
                "sampling.top_p 1.5 is outside (0, 1]"},
        BadStep{"NegativeTopP",
                [](v1::StepRequest& r) { First(r).mutable_sampling()->set_top_p(-0.1f); },
                "sampling.top_p"},
        BadStep{"NanTopP",
                [](v1::StepRequest& r) { First(r).mutable_sampling()->set_top_p(NAN); },
                "sampling.top_p"},
        BadStep{"SampleIndexNotAfterTheChunk",
                [](v1::StepRequest& r) { First(r).set_sample_index(5); },
                "sample_index 5 is not the position after the chunk (6)"},
        BadStep{"PageTokensDifferFromThePool", [](v1::StepRequest& r) { r.set_page_tokens(16); },
                "page_tokens 16 differs from the pool's 4"}),
    [](const ::testing::TestParamInfo<BadStep>& info) { return info.param.name; });

TEST(DecodeStepTest, AChunkErrorNamesTheChunkAndItsSequence) {
  v1::StepRequest request = GoodStep();
  Second(request).clear_tokens();
  absl::Status s = DecodeStep(request, kLimits).status();
  EXPECT_THAT(std::string(s.message()), HasSubstr("step chunk 1 (sequence 9): tokens is empty"));
}

TEST(DecodeStepTest, TopPZeroMeansTheWholeDistributionAndTopKZeroNoLimit) {
  v1::StepRequest request = GoodStep();
  First(request).mutable_sampling()->set_top_p(0);
  First(request).mutable_sampling()->set_top_k(0);
  absl::StatusOr<scheduler::StepBatch> batch = DecodeStep(request, kLimits);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_FLOAT_EQ(batch->chunks[0].sampling.top_p, 1.0f);
  EXPECT_EQ(batch->chunks[0].sampling.top_k, 0);
}

TEST(DecodeStepTest, ChunksThatDoNotSampleSkipTheSamplingChecks) {
  v1::StepRequest request = GoodStep();
  Second(request).mutable_sampling()->set_top_k(-4);  // ignored: sample is false
  EXPECT_TRUE(DecodeStep(request, kLimits).ok());
}

// --- The server's side: the reply of a worker to a step it planned. ---

scheduler::StepBatch PlannedBatch() {
  scheduler::StepBatch batch;
  batch.step_id = 41;
  auto chunk = [](uint64_t id, bool sample) {
    scheduler::SequenceChunk c;
    c.request_id = id;
    c.tokens = {1};
    c.sample = sample;
    return c;
  };
  batch.chunks = {chunk(5, true), chunk(6, false), chunk(8, true)};
  return batch;
}

v1::StepResponse Reply(std::vector<std::pair<uint64_t, int32_t>> sampled) {
  v1::StepResponse r;
  for (const auto& [id, token] : sampled) {
    v1::StepResponse::Sampled* s = r.add_sampled();
    s->set_sequence_id(id);
    s->set_token(token);
  }
  return r;
}

TEST(DecodeStepOutputTest, OneTokenPerSamplingChunkInOrder) {
  absl::StatusOr<scheduler::StepOutput> out =
      DecodeStepOutput(Reply({{5, 17}, {8, 99}}), PlannedBatch(), 100);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->step_id, 41u);
  ASSERT_EQ(out->tokens.size(), 2u);
  EXPECT_EQ(out->tokens[0].request_id, 5u);
  EXPECT_EQ(out->tokens[0].token, 17);
  EXPECT_EQ(out->tokens[1].request_id, 8u);
  EXPECT_EQ(out->tokens[1].token, 99);
}

TEST(DecodeStepOutputTest, AnEmptyBatchWantsAnEmptyReply) {
  scheduler::StepBatch none;
  none.step_id = 3;
  absl::StatusOr<scheduler::StepOutput> out = DecodeStepOutput(Reply({}), none, 100);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->tokens.empty());
  EXPECT_EQ(DecodeStepOutput(Reply({{5, 1}}), none, 100).status().code(),
            absl::StatusCode::kDataLoss);
}

struct BadReply {
  std::string name;
  v1::StepResponse reply;
  std::string words;
};

// gtest prints a case by its name (not as raw bytes in the test list).
void PrintTo(const BadReply& c, std::ostream* os) { *os << c.name; }

class DecodeStepOutputRejects : public ::testing::TestWithParam<BadReply> {};

TEST_P(DecodeStepOutputRejects, WithDataLossSayingWhat) {
  absl::StatusOr<scheduler::StepOutput> out =
      DecodeStepOutput(GetParam().reply, PlannedBatch(), 100);
  ASSERT_FALSE(out.ok()) << GetParam().name;
  // DATA_LOSS: the worker broke the protocol; the server fails it and recomputes elsewhere.
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss) << out.status();
  EXPECT_THAT(std::string(out.status().message()), HasSubstr(GetParam().words));
}

INSTANTIATE_TEST_SUITE_P(
    MalformedReplies, DecodeStepOutputRejects,
    ::testing::Values(
        BadReply{"NoTokens", Reply({}), "returned 0 tokens, fewer than the 2 asked"},
        BadReply{"TooFewTokens", Reply({{5, 17}}), "returned 1 tokens, fewer than the 2 asked"},
        BadReply{"TooManyTokens", Reply({{5, 17}, {8, 2}, {8, 3}}),
                 "returned 3 tokens, more than the 2 asked"},
        BadReply{"ATokenForAChunkThatDoesNotSample", Reply({{5, 17}, {6, 2}}),
                 "for sequence 6 where sequence 8 was expected"},
        BadReply{"OutOfOrder", Reply({{8, 2}, {5, 17}}),
                 "for sequence 8 where sequence 5 was expected"},
        BadReply{"MissingSequenceId", Reply({{0, 17}, {8, 2}}),
                 "for sequence 0 where sequence 5 was expected"},
        BadReply{"NegativeToken", Reply({{5, -1}, {8, 2}}),
                 "token -1 for sequence 5 is outside the vocabulary [0, 100)"},
        BadReply{"TokenPastTheVocabulary", Reply({{5, 17}, {8, 100}}),
                 "token 100 for sequence 8 is outside the vocabulary [0, 100)"}),
    [](const ::testing::TestParamInfo<BadReply>& info) { return info.param.name; });

}  // namespace
}  // namespace accllm
