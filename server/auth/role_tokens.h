// The --auth-tokens file: one "ROLE TOKEN" per line (# comments and blank
// lines allowed), roles `inference` and `admin`. Lookups compare the presented
// token with every known one in constant time, so response timing tells an
// attacker nothing about how much of a guess was right.
#ifndef ACCLLM_SERVER_AUTH_ROLE_TOKENS_H_
#define ACCLLM_SERVER_AUTH_ROLE_TOKENS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"     // absl::StatusOr
#include "absl/strings/string_view.h"  // absl::string_view

namespace accllm {

// admin may do everything inference may.
enum class Role { kInference = 0, kAdmin = 1 };

const char* RoleName(Role role);

class RoleTokens {
 public:
  // Errors name the file and line, never the token.
  static absl::StatusOr<RoleTokens> Parse(absl::string_view text, const std::string& origin);
  static absl::StatusOr<RoleTokens> Load(const std::string& path);

  // The role of `token`, or nullopt when it is unknown.
  std::optional<Role> Find(absl::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Role role;
    std::string token;
  };
  std::vector<Entry> entries_;
};

// Equal contents, in time that depends only on the lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace accllm

#endif  // ACCLLM_SERVER_AUTH_ROLE_TOKENS_H_
