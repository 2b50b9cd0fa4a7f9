// gMock matchers for absl::Status and absl::StatusOr<T>.
//
// A negative test that only checks `!s.ok()` passes for any failure at all, including one from
// the wrong check (a typo'd path, an earlier validation). StatusIs pins down both the code a
// caller would branch on and the part of the message a person would act on:
//
//   EXPECT_THAT(ParseModelConfig(json, "c.json"),
//               StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hidden_size")));
//
// The Abseil in Debian 12 predates absl/status/status_matchers.h, hence this header.
#ifndef ACCLLM_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define ACCLLM_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <gmock/gmock.h>  // MATCHER_P2, ExplainMatchResult, HasSubstr

#include <string>

#include "absl/status/status.h"    // absl::Status, absl::StatusCode
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm::testing {
namespace status_matchers_internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace status_matchers_internal

// Matches a Status or StatusOr whose code is `code` and whose message matches `message_matcher`
// (usually HasSubstr("the field or file the error is about")).
MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "isn't" : "is") + " a status with code " +
               absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = status_matchers_internal::GetStatus(arg);
  *result_listener << "whose status is " << status;
  if (status.code() != code) return false;
  return ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_SUPPORT_STATUS_MATCHERS_H_
