#include "common/bearer_token.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"      // absl::StripAsciiWhitespace
#include "absl/strings/str_cat.h"    // absl::StrCat
#include "absl/strings/str_split.h"  // absl::StrSplit

namespace accllm {

absl::StatusOr<std::string> ResolveBearerToken(const std::string& token_file) {
  if (token_file.empty()) {
    const char* env = std::getenv("ACCLLM_TOKEN");
    return env == nullptr ? std::string() : std::string(absl::StripAsciiWhitespace(env));
  }
  std::ifstream in(token_file, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--token-file ", token_file, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  for (absl::string_view line : absl::StrSplit(text.str(), '\n')) {
    absl::string_view token = absl::StripAsciiWhitespace(line);
    if (token.empty()) continue;
    if (token.find_first_of(" \t") != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--token-file ", token_file, ": the first line holds more than a token (whitespace "
          "inside)"));
    }
    return std::string(token);
  }
  return absl::InvalidArgumentError(absl::StrCat("--token-file ", token_file, ": empty"));
}

}  // namespace accllm
