#include "scheduler/request.h"

#include <string>  // std::string

#include "gtest/gtest.h"  // TEST, EXPECT_*

namespace accllm::scheduler {
namespace {

ModelLimits Limits() {
  ModelLimits limits;
  limits.vocab_size = 100;
  limits.max_dense_context = 64;
  limits.max_window = 4096;
  limits.max_sinks = 16;
  return limits;
}

RequestParams Good() {
  RequestParams p;
  p.prompt = {1, 2, 3};
  p.max_tokens = 4;
  return p;
}

void ExpectInvalid(const RequestParams& p, const std::string& mentions) {
  absl::Status s = ValidateRequestParams(p, Limits());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(std::string(s.message()).find(mentions), std::string::npos) << s;
}

TEST(RequestTest, ValidRequestUsesModelDefaultAttention) {
  absl::StatusOr<Request> r = Request::Create(7, Good(), Limits(), TimePoint{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->attention(), Limits().default_attention);
  EXPECT_EQ(r->state(), RequestState::kWaiting);
  EXPECT_EQ(r->tokens().size(), 3u);
  EXPECT_EQ(r->MaxPositions(), 3 + 4 - 1);
}

TEST(RequestTest, BadRequestsNameTheField) {
  RequestParams p = Good();
  p.prompt.clear();
  ExpectInvalid(p, "prompt");
  p = Good();
  p.prompt = {1, 100};
  ExpectInvalid(p, "outside the vocabulary");
  p = Good();
  p.max_tokens = 0;
  ExpectInvalid(p, "max_tokens");
  p = Good();
  p.sampling.temperature = -1;
  ExpectInvalid(p, "temperature");
  p = Good();
  p.sampling.top_p = 0;
  ExpectInvalid(p, "top_p");
  p = Good();
  p.sampling.top_k = -2;
  ExpectInvalid(p, "top_k");
  p = Good();
  p.stop_sequences = {{}};
  ExpectInvalid(p, "stop_sequences");
  p = Good();
  p.stop_token_ids = {-1};
  ExpectInvalid(p, "stop_token_ids");
  p = Good();
  p.attention = AttentionSpec::Lambda(4, 0);
  ExpectInvalid(p, "window must be at least 1");
  p = Good();
  p.attention = AttentionSpec::Lambda(8, 4);
  ExpectInvalid(p, "must not exceed the window");
  p = Good();
  p.attention = AttentionSpec::Lambda(-1, 4);
  ExpectInvalid(p, "sinks must be >= 0");
  p = Good();
  p.attention = AttentionSpec::Lambda(4, 8192);
  ExpectInvalid(p, "exceeds the model's limit");
  p = Good();
  p.attention = AttentionSpec::Lambda(32, 64);
  ExpectInvalid(p, "sinks 32 exceed");
  p = Good();
  p.attention = AttentionSpec::Dense();
  p.max_tokens = 62;  // 3 + 62 - 1 = 64 positions: fits
  EXPECT_TRUE(ValidateRequestParams(p, Limits()).ok());
  p.max_tokens = 63;
  ExpectInvalid(p, "dense context of 64");
}

TEST(RequestTest, LegalLifecycle) {
  Request r = *Request::Create(1, Good(), Limits(), TimePoint{});
  EXPECT_TRUE(r.TransitionTo(RequestState::kPrefilling).ok());
  EXPECT_TRUE(r.TransitionTo(RequestState::kDecoding).ok());
  EXPECT_TRUE(r.TransitionTo(RequestState::kWaiting).ok());  // preempted
  EXPECT_TRUE(r.TransitionTo(RequestState::kPrefilling).ok());
  EXPECT_TRUE(r.Finish(FinishReason::kLength).ok());
  EXPECT_EQ(r.state(), RequestState::kFinished);
  EXPECT_EQ(r.finish_reason(), FinishReason::kLength);
}

TEST(RequestTest, IllegalTransitionsAreErrors) {
  Request r = *Request::Create(1, Good(), Limits(), TimePoint{});
  EXPECT_EQ(r.TransitionTo(RequestState::kDecoding).code(),
            absl::StatusCode::kFailedPrecondition);  // must prefill first
  EXPECT_EQ(r.TransitionTo(RequestState::kWaiting).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.TransitionTo(RequestState::kFinished).code(),
            absl::StatusCode::kFailedPrecondition);  // only through Finish
  ASSERT_TRUE(r.Finish(FinishReason::kCancelled, "client left").ok());
  EXPECT_EQ(r.state(), RequestState::kCancelled);
  EXPECT_EQ(r.finish_message(), "client left");
  EXPECT_EQ(r.TransitionTo(RequestState::kPrefilling).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.Finish(FinishReason::kStop).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RequestTest, ErrorFinishMeansFailed) {
  Request r = *Request::Create(1, Good(), Limits(), TimePoint{});
  ASSERT_TRUE(r.Finish(FinishReason::kError, "no worker").ok());
  EXPECT_EQ(r.state(), RequestState::kFailed);
}

}  // namespace
}  // namespace accllm::scheduler
