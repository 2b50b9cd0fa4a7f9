// The public port with TLS and role tokens, the cluster port with mutual TLS,
// and workers that serve steps only to the cluster's server: real processes on
// 127.0.0.1, certificates made with openssl at test time.
#include <signal.h>

#include <fstream>

#include "accllm/v1/cluster.grpc.pb.h"       // v1::Cluster::Stub
#include "accllm/v1/worker.grpc.pb.h"        // v1::Worker::Stub
#include "common/tls.h"                      // TlsChannelCredentials
#include "grpcpp/create_channel.h"           // grpc::CreateChannel
#include "grpcpp/generic/generic_stub.h"     // grpc::GenericStub
#include "grpcpp/security/credentials.h"     // grpc::ChannelCredentials
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"                 // nlohmann::json
#include "tests/integration/serving_fixture.h"
#include "tests/integration/test_certificates.h"

namespace accllm::testing {
namespace {

const char kAdminToken[] = "admin-token-0123456789abcdef";
const char kInferenceToken[] = "inference-token-0123456789abcdef";

class SecurityTest : public ServingTest {
 protected:
  void SetUp() override {
    ca_ = MakeTestCa(dir_.path(), "cluster");
    server_cert_ = ca_.Issue("server");
    ASSERT_FALSE(server_cert_.cert.empty());
    tokens_ = (dir_ / "tokens").string();
    WriteTokens(kInferenceToken);
    MakeTinyModel("tiny");
  }

  void WriteTokens(const std::string& inference_token) {
    std::ofstream(tokens_) << "# role token\nadmin " << kAdminToken << "\ninference "
                           << inference_token << "\n";
  }

  std::unique_ptr<client::Client> ConnectTls(const Daemon& server, const std::string& token,
                                             absl::Status* status = nullptr) {
    client::ClientOptions options;
    options.connect_timeout = std::chrono::seconds(10);
    options.tls_ca = ca_.cert;
    options.token = token;
    absl::StatusOr<std::unique_ptr<client::Client>> c =
        client::Client::Connect(server.grpc_address(), options);
    if (status != nullptr) *status = c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(const TestCertificate& leaf = {}) const {
    TlsFiles files;
    files.cert = leaf.cert;
    files.key = leaf.key;
    files.ca = ca_.cert;
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = TlsChannelCredentials(files);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return creds.ok() ? *creds : nullptr;
  }

  // A raw call to `method` (e.g. reflection, which the client library does not
  // speak): the status the server's auth gives before any handler runs.
  grpc::StatusCode CallRaw(const std::string& address, const std::string& method,
                           const std::string& token) {
    grpc::GenericStub stub(grpc::CreateChannel(address, Tls()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", std::string("Bearer ") + token);
    // An empty message, but a valid buffer (a default ByteBuffer is none).
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     std::lock_guard<std::mutex> lock(mu);
                     status = s;
                     done = true;
                     cv.notify_all();
                   });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return status.error_code();
  }

  TestCa ca_;
  TestCertificate server_cert_;
  std::string tokens_;
};

TEST_F(SecurityTest, TlsPortEnforcesRoleTokens) {
  std::unique_ptr<Daemon> server =
      StartServer("server", {"--tls-cert=" + server_cert_.cert, "--tls-key=" + server_cert_.key,
                             "--auth-tokens=" + tokens_});
  ASSERT_TRUE(server->ok());
  std::unique_ptr<client::Client> admin = ConnectTls(*server, kAdminToken);
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(WaitReady(*admin, "tiny"));

  // inference: generates and reads, may not manage.
  std::unique_ptr<client::Client> user = ConnectTls(*server, kInferenceToken);
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(Collect(*user, GreedyIds("tiny", {1, 2, 3}, 5)).size(), 5u);
  EXPECT_TRUE(user->ListModels().ok());
  absl::StatusOr<v1::ModelInfo> unloaded = user->UnloadModel("tiny");
  EXPECT_EQ(unloaded.status().code(), absl::StatusCode::kPermissionDenied) << unloaded.status();
  EXPECT_NE(unloaded.status().message().find("Unload"), std::string::npos) << unloaded.status();
  EXPECT_EQ(user->ListWorkers().status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(admin->GetModel("tiny")->state(), v1::MODEL_STATE_READY);
  EXPECT_TRUE(admin->ListWorkers().ok());

  // No token, a wrong one, a plaintext client.
  std::unique_ptr<client::Client> anonymous = ConnectTls(*server, "");
  ASSERT_NE(anonymous, nullptr);
  absl::StatusOr<std::vector<v1::ModelInfo>> listed = anonymous->ListModels();
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kUnauthenticated) << listed.status();
  EXPECT_NE(listed.status().message().find("authorization"), std::string::npos);
  std::unique_ptr<client::Client> guesser = ConnectTls(*server, "admin-token-0123456789abcdeX");
  EXPECT_EQ(guesser->ListModels().status().code(), absl::StatusCode::kUnauthenticated);
  absl::StatusOr<std::unique_ptr<client::Client>> plaintext =
      client::Client::Connect(server->grpc_address(), std::chrono::seconds(3));
  EXPECT_EQ(plaintext.status().code(), absl::StatusCode::kUnavailable) << plaintext.status();

  // Health stays open; reflection needs admin.
  EXPECT_EQ(HealthStatus(server->grpc_address(), "accllm.v1.Inference", Tls()), "SERVING");
  const std::string reflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  EXPECT_EQ(CallRaw(server->grpc_address(), reflection, ""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CallRaw(server->grpc_address(), reflection, kInferenceToken),
            grpc::StatusCode::PERMISSION_DENIED);
  const grpc::StatusCode as_admin = CallRaw(server->grpc_address(), reflection, kAdminToken);
  EXPECT_NE(as_admin, grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(as_admin, grpc::StatusCode::PERMISSION_DENIED);

  // The command line: --tls-ca and --token-file.
  const std::string token_file = (dir_ / "admin.token").string();
  std::ofstream(token_file) << kAdminToken << "\n";
  const std::string common = " --server " + server->grpc_address() + " --tls-ca " + ca_.cert;
  CommandResult cli = RunAccllm("models" + common + " --token-file " + token_file);
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("tiny"), std::string::npos) << cli.out;
  cli = RunAccllm("models" + common);
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE(cli.err.find("token"), std::string::npos) << cli.err;
  cli = RunAccllm("workers" + common + " --token-file " + (dir_ / "missing").string());
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE(cli.err.find("--token-file"), std::string::npos) << cli.err;

  // SIGHUP re-reads the file: the old inference token stops working.
  const std::string rotated = "inference-token-rotated-0123456789";
  WriteTokens(rotated);
  server->Signal(SIGHUP);
  std::unique_ptr<client::Client> renewed = ConnectTls(*server, rotated);
  ASSERT_NE(renewed, nullptr);
  EXPECT_TRUE(Eventually([&] { return renewed->ListModels().ok(); }, std::chrono::seconds(10)));
  EXPECT_EQ(user->ListModels().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(server->Running()) << "SIGHUP must not stop the server";

  // Tokens are never logged.
  const std::string log = server->Log();
  EXPECT_EQ(log.find(kAdminToken), std::string::npos);
  EXPECT_EQ(log.find(kInferenceToken), std::string::npos);
}

TEST_F(SecurityTest, TokensOnAPlaintextNetworkPortAreRefused) {
  const CommandResult r = RunCommand(
      (BinDir() / "accllm-server").string() + " --listen=0.0.0.0:0 --metrics-listen= "
      "--model-repository=" + repo().string() + " --auth-tokens=" + tokens_);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--tls-cert"), std::string::npos) << r.err;
}

std::string ReadyField(const std::filesystem::path& ready, const std::string& field) {
  std::ifstream in(ready);
  nlohmann::json json = nlohmann::json::parse(in, nullptr, false);
  return json.is_object() && json.contains(field) ? json[field].get<std::string>() : "";
}

TEST_F(SecurityTest, ClusterPortAdmitsOnlyWorkersOfTheClusterCa) {
  std::unique_ptr<Daemon> server = StartServer(
      "server", {"--tls-cert=" + server_cert_.cert, "--tls-key=" + server_cert_.key,
                 "--local-worker=false", "--cluster-listen=127.0.0.1:0",
                 "--cluster-tls-ca=" + ca_.cert});
  ASSERT_TRUE(server->ok());
  const std::string cluster = ReadyField(dir_ / "server.ready", "cluster");
  ASSERT_FALSE(cluster.empty());

  const TestCertificate good_cert = ca_.Issue("good-worker");
  const TestCa other = MakeTestCa(dir_.path(), "other");
  const TestCertificate stranger_cert = other.Issue("stranger-worker");
  std::unique_ptr<Daemon> good = StartWorker(
      "good", cluster,
      {"--tls-cert=" + good_cert.cert, "--tls-key=" + good_cert.key, "--tls-ca=" + ca_.cert});
  // Its own CA: it cannot prove itself to the server (nor trust the server).
  std::unique_ptr<Daemon> stranger =
      StartWorker("stranger", cluster,
                  {"--tls-cert=" + stranger_cert.cert, "--tls-key=" + stranger_cert.key,
                   "--tls-ca=" + other.cert});
  // Trusts the server but has no certificate of the CA.
  std::unique_ptr<Daemon> plain = StartWorker("plain", cluster);
  ASSERT_TRUE(good->ok() && stranger->ok() && plain->ok());

  std::unique_ptr<client::Client> admin = ConnectTls(*server, "");
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(WaitReady(*admin, "tiny"));
  // Steps cross to the worker over mutual TLS.
  EXPECT_EQ(Collect(*admin, GreedyIds("tiny", {4, 5, 6}, 6)).size(), 6u);
  // The strangers retried for a while and are still not there.
  EXPECT_TRUE(Eventually([&] { return stranger->Log().find("cannot register") != std::string::npos &&
                                      plain->Log().find("cannot register") != std::string::npos; }));
  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = admin->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].address(), good->grpc_address());
  const CommandResult cli = RunAccllm("workers --server " + server->grpc_address() +
                                      " --tls-ca " + ca_.cert);
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find(good->grpc_address()), std::string::npos) << cli.out;
  EXPECT_EQ(cli.out.find(stranger->grpc_address()), std::string::npos) << cli.out;
  EXPECT_EQ(cli.out.find(plain->grpc_address()), std::string::npos) << cli.out;

  // Registration is not served on the public port once the cluster port exists.
  auto public_cluster = v1::Cluster::NewStub(grpc::CreateChannel(server->grpc_address(), Tls()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::RegisterWorkerRequest request;
  request.set_address("127.0.0.1:1");
  v1::RegisterWorkerResponse response;
  EXPECT_EQ(public_cluster->RegisterWorker(&context, request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  // A worker sends steps only to a client holding a certificate of the CA.
  for (bool with_certificate : {false, true}) {
    auto worker = v1::Worker::NewStub(grpc::CreateChannel(
        good->grpc_address(), with_certificate ? Tls(good_cert) : Tls()));
    grpc::ClientContext info_context;
    info_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::WorkerInfoRequest info_request;
    v1::WorkerInfoResponse info;
    EXPECT_EQ(worker->Info(&info_context, info_request, &info).ok(), with_certificate);
  }
}

}  // namespace
}  // namespace accllm::testing
