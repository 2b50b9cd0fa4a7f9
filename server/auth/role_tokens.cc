#include "server/auth/role_tokens.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"    // absl::StripAsciiWhitespace
#include "absl/strings/str_cat.h"  // absl::StrCat
#include "absl/strings/str_split.h"  // absl::StrSplit

namespace accllm {

const char* RoleName(Role role) { return role == Role::kAdmin ? "admin" : "inference"; }

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Walks the longer string whatever the contents; a length mismatch still
  // costs the whole walk.
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

absl::StatusOr<RoleTokens> RoleTokens::Parse(absl::string_view text, const std::string& origin) {
  RoleTokens tokens;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string where = absl::StrCat(origin, ":", line_number);
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": expected \"ROLE TOKEN\" (two fields), found ", fields.size()));
    }
    Role role;
    if (fields[0] == "admin") {
      role = Role::kAdmin;
    } else if (fields[0] == "inference") {
      role = Role::kInference;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown role \"", fields[0], "\" (roles: inference, admin)"));
    }
    if (fields[1].size() < 16) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": token too short (", fields[1].size(), " characters; at least 16)"));
    }
    for (const Entry& e : tokens.entries_) {
      if (e.token == fields[1]) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": token repeated"));
      }
    }
    tokens.entries_.push_back({role, std::string(fields[1])});
  }
  if (tokens.entries_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": no tokens (lines \"ROLE TOKEN\")"));
  }
  return tokens;
}

absl::StatusOr<RoleTokens> RoleTokens::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--auth-tokens ", path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), absl::StrCat("--auth-tokens ", path));
}

std::optional<Role> RoleTokens::Find(absl::string_view token) const {
  std::optional<Role> found;
  for (const Entry& e : entries_) {
    // No early exit: every entry is compared.
    if (ConstantTimeEquals(e.token, token)) found = e.role;
  }
  return found;
}

}  // namespace accllm
