// Models.Load / Unload / reload through a real server while traffic runs, and
// broken model directories.
#include <algorithm>
#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class ModelManagementTest : public ServingTest {};

TEST_F(ModelManagementTest, LoadUnloadAndReloadUnderTraffic) {
  MakeTinyModel("a", 1);
  MakeTinyModel("b", 2);
  auto server = StartServer("server", {"--load-model=a"});
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "a"));
  const std::vector<int32_t> reference = Collect(*c, GreedyIds("a", {1, 4, 9}, 32));
  ASSERT_EQ(reference.size(), 32u);

  std::atomic<bool> stop = false;
  std::atomic<int> done = 0, wrong = 0, failed = 0;
  std::vector<std::thread> traffic;
  for (int t = 0; t < 3; ++t) {
    traffic.emplace_back([&] {
      absl::StatusOr<std::unique_ptr<client::Client>> own =
          client::Client::Connect(server->grpc_address());
      ASSERT_TRUE(own.ok());
      while (!stop.load()) {
        std::vector<int32_t> ids;
        absl::StatusOr<client::GenerateResult> r =
            (*own)->Generate(GreedyIds("a", {1, 4, 9}, 32), [&](const v1::GenerateResponse& m) {
              ids.insert(ids.end(), m.token_ids().begin(), m.token_ids().end());
              return true;
            });
        if (!r.ok()) {
          ++failed;
          ADD_FAILURE() << r.status();
        } else if (ids != reference) {
          ++wrong;
        }
        ++done;
      }
    });
  }
  // A long stream on version 1 that the first reload must overlap.
  constexpr int kLong = 600;
  std::atomic<int> long_received = 0;
  std::vector<int32_t> long_ids;
  v1::FinishReason long_reason = v1::FINISH_REASON_UNSPECIFIED;
  std::thread long_stream([&] {
    absl::StatusOr<client::GenerateResult> r =
        c->Generate(GreedyIds("a", {1, 4, 9}, kLong), [&](const v1::GenerateResponse& m) {
          long_ids.insert(long_ids.end(), m.token_ids().begin(), m.token_ids().end());
          long_received += m.token_ids_size();
          return true;
        });
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) long_reason = r->finish_reason;
  });
  EXPECT_TRUE(Eventually([&] { return long_received.load() >= 5; }));
  // Reload a twice (new versions take over; running streams finish on the old),
  // load, unload and reload b, all while a's traffic runs.
  int long_when_reloaded = kLong;
  bool old_version_served_on = false;
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<v1::ModelInfo> reloaded = c->LoadModel("a");
    if (round == 0) {
      long_when_reloaded = long_received.load();
      // Version 1 is still on the worker, running the long stream beside version 2.
      old_version_served_on = Eventually([&] {
        absl::StatusOr<std::vector<v1::WorkerStatus>> now = c->ListWorkers();
        if (!now.ok() || now->empty()) return false;
        const auto& models = now->at(0).models();
        return std::find(models.begin(), models.end(), "a@1") != models.end() &&
               std::find(models.begin(), models.end(), "a@2") != models.end();
      }, std::chrono::seconds(5));
    }
    EXPECT_TRUE(reloaded.ok()) << reloaded.status();
    if (!reloaded.ok()) break;
    EXPECT_EQ(reloaded->version(), 2 + round);
    EXPECT_EQ(reloaded->state(), v1::MODEL_STATE_READY);
  }
  long_stream.join();
  EXPECT_LT(long_when_reloaded, kLong) << "the long stream ended before the reload: no overlap";
  EXPECT_TRUE(old_version_served_on) << "version 1 was not running beside version 2";
  EXPECT_EQ(long_reason, v1::FINISH_REASON_LENGTH);
  ASSERT_EQ(long_ids.size(), static_cast<size_t>(kLong));
  EXPECT_EQ(std::vector<int32_t>(long_ids.begin(), long_ids.begin() + 32), reference);
  absl::StatusOr<v1::ModelInfo> b = c->LoadModel("b");
  EXPECT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Collect(*c, GreedyIds("b", {1, 4, 9}, 8)).size(), 8u);
  absl::StatusOr<v1::ModelInfo> unloaded = c->UnloadModel("b");
  ASSERT_TRUE(unloaded.ok()) << unloaded.status();
  EXPECT_TRUE(unloaded->state() == v1::MODEL_STATE_AVAILABLE ||
              unloaded->state() == v1::MODEL_STATE_UNLOADING);
  absl::StatusOr<client::GenerateResult> gone =
      c->Generate(GreedyIds("b", {1}, 4), [](const v1::GenerateResponse&) { return true; });
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kFailedPrecondition) << gone.status();
  b = c->LoadModel("b");
  EXPECT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(c->GetModel("b")->version(), 2);
  ASSERT_TRUE(Eventually([&] { return done.load() >= 10; }));
  stop = true;
  for (std::thread& t : traffic) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  // Old versions are gone from the worker once their streams ended.
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<std::vector<v1::WorkerStatus>> w = c->ListWorkers();
    return w.ok() && w->size() == 1 && w->at(0).models_size() == 2;
  })) << c->ListWorkers()->at(0).DebugString();
}

TEST_F(ModelManagementTest, ABrokenModelFailsToLoadWithAClearReasonAndTheOldKeepsServing) {
  MakeTinyModel("a");
  MakeTinyModel("broken");
  WriteFileOrDie(repo() / "broken" / "config.json", "{\"hidden_size\": \"many\"}");
  auto server = StartServer("server", {"--load-model=a"});
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "a"));
  const std::vector<int32_t> before = Collect(*c, GreedyIds("a", {1, 2}, 16));

  absl::StatusOr<v1::ModelInfo> broken = c->LoadModel("broken");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument) << broken.status();
  EXPECT_NE(broken.status().message().find("config.json"), std::string::npos) << broken.status();
  absl::StatusOr<v1::ModelInfo> info = c->GetModel("broken");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state(), v1::MODEL_STATE_FAILED);
  EXPECT_NE(info->reason().find("config.json"), std::string::npos) << info->reason();

  // Break a's weights on disk (replaced by rename, as deployments must: the
  // serving version keeps its mapping of the old file), then reload it: the
  // reload fails, version 1 serves on.
  WriteFileOrDie(repo() / "a" / "model.safetensors.new", "not a safetensors file");
  std::filesystem::rename(repo() / "a" / "model.safetensors.new",
                          repo() / "a" / "model.safetensors");
  absl::StatusOr<v1::ModelInfo> reload = c->LoadModel("a");
  ASSERT_FALSE(reload.ok());
  // A corrupt weights file is DATA_LOSS, as the reader reports it.
  EXPECT_EQ(reload.status().code(), absl::StatusCode::kDataLoss) << reload.status();
  EXPECT_NE(reload.status().message().find("model.safetensors"), std::string::npos)
      << reload.status();
  info = c->GetModel("a");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state(), v1::MODEL_STATE_READY);
  EXPECT_EQ(info->version(), 1);
  EXPECT_NE(info->reason().find("reload failed"), std::string::npos) << info->reason();
  EXPECT_EQ(Collect(*c, GreedyIds("a", {1, 2}, 16)), before);

  absl::StatusOr<v1::ModelInfo> unknown = c->LoadModel("../etc");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument) << unknown.status();
  unknown = c->LoadModel("absent");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
}

}  // namespace
}  // namespace accllm::testing
