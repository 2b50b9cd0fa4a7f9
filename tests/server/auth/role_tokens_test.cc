#include "server/auth/role_tokens.h"

#include "gtest/gtest.h"
#include "server/auth/method_roles.h"

namespace accllm {
namespace {

TEST(RoleTokensTest, ParsesRolesCommentsAndBlankLines) {
  absl::StatusOr<RoleTokens> tokens = RoleTokens::Parse(
      "# operators\nadmin   aaaaaaaaaaaaaaaa\n\n\tinference bbbbbbbbbbbbbbbb  \n", "tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2u);
  EXPECT_EQ(tokens->Find("aaaaaaaaaaaaaaaa"), Role::kAdmin);
  EXPECT_EQ(tokens->Find("bbbbbbbbbbbbbbbb"), Role::kInference);
  EXPECT_EQ(tokens->Find("bbbbbbbbbbbbbbb"), std::nullopt);   // a prefix
  EXPECT_EQ(tokens->Find("bbbbbbbbbbbbbbbbb"), std::nullopt);  // one more
  EXPECT_EQ(tokens->Find(""), std::nullopt);
}

TEST(RoleTokensTest, ErrorsNameTheLineNeverTheToken) {
  struct Case {
    const char* text;
    const char* expected;
  };
  for (const Case& c : {Case{"admin\n", "tokens:1: expected \"ROLE TOKEN\""},
                        Case{"\nroot cccccccccccccccc\n", "tokens:2: unknown role \"root\""},
                        Case{"admin short\n", "tokens:1: token too short"},
                        Case{"admin dddddddddddddddd extra\n", "tokens:1: expected"},
                        Case{"admin eeeeeeeeeeeeeeee\ninference eeeeeeeeeeeeeeee\n",
                             "tokens:2: token repeated"},
                        Case{"# nothing\n", "tokens: no tokens"}}) {
    absl::StatusOr<RoleTokens> tokens = RoleTokens::Parse(c.text, "tokens");
    ASSERT_FALSE(tokens.ok()) << c.text;
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(tokens.status().message().find(c.expected), std::string::npos) << tokens.status();
    for (const char* secret : {"cccccccccccccccc", "dddddddddddddddd", "eeeeeeeeeeeeeeee"}) {
      EXPECT_EQ(tokens.status().message().find(secret), std::string::npos) << tokens.status();
    }
  }
}

TEST(RoleTokensTest, LoadNamesAMissingFile) {
  absl::StatusOr<RoleTokens> tokens = RoleTokens::Load("/nonexistent/tokens");
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tokens.status().message().find("--auth-tokens /nonexistent/tokens"), std::string::npos);
}

TEST(RoleTokensTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  // A trailing NUL must not compare equal (it would if the length were ignored).
  EXPECT_FALSE(ConstantTimeEquals("secret", absl::string_view("secret\0", 7)));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(MethodRolesTest, HealthIsOpenInferenceReadsAdminManages) {
  EXPECT_EQ(RequiredRole("/grpc.health.v1.Health/Check"), std::nullopt);
  EXPECT_EQ(RequiredRole("/grpc.health.v1.Health/Watch"), std::nullopt);
  EXPECT_EQ(RequiredRole("/accllm.v1.Inference/Generate"), Role::kInference);
  EXPECT_EQ(RequiredRole("/accllm.v1.Inference/Tokenize"), Role::kInference);
  EXPECT_EQ(RequiredRole("/accllm.v1.Models/List"), Role::kInference);
  EXPECT_EQ(RequiredRole("/accllm.v1.Models/Get"), Role::kInference);
  EXPECT_EQ(RequiredRole("/accllm.v1.Models/Statistics"), Role::kInference);
  EXPECT_EQ(RequiredRole("/accllm.v1.Models/Load"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/accllm.v1.Models/Unload"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/accllm.v1.Cluster/ListWorkers"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/accllm.v1.Cluster/DrainWorker"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/accllm.v1.Cluster/RegisterWorker"), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"),
            Role::kAdmin);
  EXPECT_EQ(RequiredRole(""), Role::kAdmin);
  EXPECT_EQ(RequiredRole("/grpc.health.v1.HealthX/Check"), Role::kAdmin);
}

}  // namespace
}  // namespace accllm
