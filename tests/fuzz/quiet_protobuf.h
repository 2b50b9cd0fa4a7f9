// libprotobuf logs every invalid UTF-8 string it parses; a fuzzer makes millions of them.
#ifndef ACCLLM_TESTS_FUZZ_QUIET_PROTOBUF_H_
#define ACCLLM_TESTS_FUZZ_QUIET_PROTOBUF_H_

#include <google/protobuf/stubs/logging.h>  // google::protobuf::SetLogHandler

namespace accllm::fuzz {

inline void QuietProtobuf() {
  static const bool once = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)once;
}

}  // namespace accllm::fuzz

#endif  // ACCLLM_TESTS_FUZZ_QUIET_PROTOBUF_H_
