// The role token a client (the `accllm` commands, a worker registering on a
// port with --auth-tokens) sends: from --token-file, else $ACCLLM_TOKEN.
// Read from a file or the environment, never from argv, where `ps` shows it.
#ifndef ACCLLM_COMMON_BEARER_TOKEN_H_
#define ACCLLM_COMMON_BEARER_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

// The token in `token_file` (its first non-blank line, trimmed) when the path
// is set; else $ACCLLM_TOKEN; else "" (send none). Errors name the file.
absl::StatusOr<std::string> ResolveBearerToken(const std::string& token_file);

}  // namespace accllm

#endif  // ACCLLM_COMMON_BEARER_TOKEN_H_
