// Worker-side decoding of steps whose numbers would overflow (found by tests/fuzz/step_codec).
#include <cstdint>
#include <limits>

#include "accllm/v1/worker.pb.h"  // v1::StepRequest
#include "common/step_codec.h"    // DecodeStep
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace accllm {
namespace {

using ::testing::HasSubstr;

constexpr StepLimits kLimits{.vocab_size = 512, .num_pages = 64, .page_size = 16};

// Two tokens at first_position; sample_index is what the sender claims (it must not overflow
// here either).
v1::StepRequest OneChunkAt(int64_t first_position, bool sample, int64_t sample_index) {
  v1::StepRequest step;
  step.set_page_tokens(kLimits.page_size);
  v1::SequenceChunk* c = step.add_chunks();
  c->set_sequence_id(7);
  c->add_tokens(1);
  c->add_tokens(2);
  c->set_first_position(first_position);
  c->mutable_attention()->mutable_dense();
  c->set_sample(sample);
  c->set_sample_index(sample_index);
  return step;
}

TEST(StepCodecLimitsTest, RefusesAPositionRangeThatOverflows) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  for (bool sample : {false, true}) {
    absl::StatusOr<scheduler::StepBatch> batch = DecodeStep(OneChunkAt(max - 1, sample, max), kLimits);
    ASSERT_FALSE(batch.ok());
    EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(batch.status().message(), HasSubstr("first_position"));
  }
}

TEST(StepCodecLimitsTest, AcceptsTheLastPositionsThatFit) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  absl::StatusOr<scheduler::StepBatch> batch = DecodeStep(OneChunkAt(max - 2, true, max), kLimits);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->chunks[0].sample_position, max);
}

}  // namespace
}  // namespace accllm
