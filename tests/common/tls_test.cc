#include "common/tls.h"

#include <cstdlib>
#include <fstream>

#include "common/bearer_token.h"
#include "gtest/gtest.h"
#include "tests/support/test_env.h"  // TempDir

namespace accllm {
namespace {

using ::accllm::testing::TempDir;

TEST(TlsTest, ReadPemFileNamesFlagAndPath) {
  TempDir dir;
  absl::StatusOr<std::string> missing = ReadPemFile("--tls-cert", (dir / "none.pem").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("--tls-cert"), std::string::npos);
  EXPECT_NE(missing.status().message().find("none.pem"), std::string::npos);
  std::ofstream(dir / "text.pem") << "hello\n";
  absl::StatusOr<std::string> text = ReadPemFile("--tls-key", (dir / "text.pem").string());
  EXPECT_NE(text.status().message().find("not a PEM file"), std::string::npos) << text.status();
  std::ofstream(dir / "ok.pem") << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  EXPECT_TRUE(ReadPemFile("--tls-ca", (dir / "ok.pem").string()).ok());
}

TEST(TlsTest, CertificateAndKeyGoTogether) {
  TlsFiles files;
  files.cert = "/some/cert.pem";
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server = TlsServerCredentials(files);
  EXPECT_NE(server.status().message().find("--tls-cert and --tls-key go together"),
            std::string::npos)
      << server.status();
  EXPECT_EQ(TlsChannelCredentials(files).status().code(), absl::StatusCode::kInvalidArgument);
  TlsFiles none;
  EXPECT_NE(TlsServerCredentials(none).status().message().find("needs --tls-cert"),
            std::string::npos);
  EXPECT_TRUE(TlsChannelCredentials(none).ok());  // the system's roots
}

TEST(TlsTest, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1:50051", "127.1.2.3:1", "localhost:80", "[::1]:9", "unix:/x.sock",
                        "ipv4:127.0.0.1:5"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a : {"0.0.0.0:50051", "10.0.0.1:1", "[::]:9", "example.com:443", "128.0.0.1:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
  EXPECT_TRUE(IsUnixAddress("unix:/tmp/a.sock"));
  EXPECT_FALSE(IsUnixAddress("127.0.0.1:1"));
}

TEST(BearerTokenTest, FileThenEnvironment) {
  TempDir dir;
  unsetenv("ACCLLM_TOKEN");
  EXPECT_EQ(*ResolveBearerToken(""), "");
  setenv("ACCLLM_TOKEN", " from-env \n", 1);
  EXPECT_EQ(*ResolveBearerToken(""), "from-env");
  std::ofstream(dir / "token") << "\n  from-file  \nignored\n";
  EXPECT_EQ(*ResolveBearerToken((dir / "token").string()), "from-file");
  unsetenv("ACCLLM_TOKEN");
  std::ofstream(dir / "empty") << "\n\n";
  EXPECT_NE(ResolveBearerToken((dir / "empty").string()).status().message().find("empty"),
            std::string::npos);
  std::ofstream(dir / "two") << "admin secret\n";
  EXPECT_NE(ResolveBearerToken((dir / "two").string()).status().message().find("whitespace"),
            std::string::npos);
  EXPECT_NE(ResolveBearerToken((dir / "none").string()).status().message().find("--token-file"),
            std::string::npos);
}

}  // namespace
}  // namespace accllm
