#include "server/model_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/model_repository.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A loader whose servables count themselves, so tests can see what is freed.
struct CountedServable : Servable {
  explicit CountedServable(std::atomic<int>& live, int64_t v) : live(live), version(v) { ++live; }
  ~CountedServable() override { --live; }
  std::atomic<int>& live;
  int64_t version;
};

class FakeLoader : public ModelLoader {
 public:
  absl::StatusOr<std::shared_ptr<Servable>> Load(const std::string& name,
                                                 const std::filesystem::path& path,
                                                 int64_t version) override {
    ++calls;
    if (path.filename() == "broken") {
      return absl::InvalidArgumentError(name + ": config.json: missing field \"hidden_size\"");
    }
    return std::make_shared<CountedServable>(live, version);
  }
  std::atomic<int> live{0};
  std::atomic<int> calls{0};
};

TEST(ModelRegistryTest, LoadServeUnload) {
  FakeLoader loader;
  ModelRegistry registry(loader);
  EXPECT_EQ(registry.Acquire("m").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<ModelStatus> s = registry.Load("m", "/models/good");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->state, ModelState::kReady);
  EXPECT_EQ(s->version, 1);
  std::shared_ptr<Servable> in_flight = *registry.Acquire("m");
  ASSERT_TRUE(registry.Unload("m").ok());
  EXPECT_EQ(registry.Status("m")->state, ModelState::kUnloading);  // a request still runs
  EXPECT_EQ(registry.Acquire("m").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(loader.live.load(), 1);  // the running request still holds it
  in_flight.reset();
  EXPECT_EQ(loader.live.load(), 0);
  EXPECT_EQ(registry.Status("m")->state, ModelState::kAvailable);
  EXPECT_EQ(registry.Unload("m").status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelRegistryTest, FailedFirstLoadIsFailedWithTheReason) {
  FakeLoader loader;
  ModelRegistry registry(loader);
  absl::StatusOr<ModelStatus> s = registry.Load("m", "/models/broken");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("loading model m"), HasSubstr("hidden_size"))));
  EXPECT_EQ(registry.Status("m")->state, ModelState::kFailed);
  EXPECT_THAT(registry.Status("m")->reason, HasSubstr("hidden_size"));
  absl::Status acquire = registry.Acquire("m").status();
  EXPECT_EQ(acquire.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(acquire.message()), HasSubstr("FAILED"));
  // A good load afterwards recovers.
  ASSERT_TRUE(registry.Load("m", "/models/good").ok());
  EXPECT_EQ(registry.Status("m")->reason, "");
}

TEST(ModelRegistryTest, FailedReloadKeepsTheOldVersionServing) {
  FakeLoader loader;
  ModelRegistry registry(loader);
  ASSERT_TRUE(registry.Load("m", "/models/good").ok());
  ASSERT_THAT(registry.Load("m", "/models/broken"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hidden_size")));
  absl::StatusOr<ModelStatus> s = registry.Status("m");
  EXPECT_EQ(s->state, ModelState::kReady);
  EXPECT_EQ(s->version, 1);
  EXPECT_THAT(s->reason, HasSubstr("reload failed"));
  auto servable = registry.Acquire("m");
  ASSERT_TRUE(servable.ok());
  EXPECT_EQ(static_cast<CountedServable&>(**servable).version, 1);
  EXPECT_EQ(loader.live.load(), 1);
}

TEST(ModelRegistryTest, ReloadSwapsVersionsAndFreesTheOldOneWhenUnused) {
  FakeLoader loader;
  ModelRegistry registry(loader);
  ASSERT_TRUE(registry.Load("m", "/models/good").ok());
  std::shared_ptr<Servable> v1 = *registry.Acquire("m");
  ASSERT_TRUE(registry.Load("m", "/models/good").ok());
  EXPECT_EQ(registry.Status("m")->version, 2);
  EXPECT_EQ(static_cast<CountedServable&>(**registry.Acquire("m")).version, 2);
  EXPECT_EQ(loader.live.load(), 2);
  v1.reset();
  EXPECT_EQ(loader.live.load(), 1);
}

TEST(ModelRegistryTest, ConcurrentAcquireDuringReloadAlwaysGetsAModel) {
  FakeLoader loader;
  ModelRegistry registry(loader);
  ASSERT_TRUE(registry.Load("m", "/models/good").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    while (!stop) {
      if (!registry.Acquire("m").ok()) ++failures;
    }
  });
  for (int i = 0; i < 200; ++i) {
    if (!registry.Load("m", i % 3 ? "/models/good" : "/models/broken").ok() && i % 3) ++failures;
  }
  stop = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(loader.live.load(), 1);
}

TEST(ModelRegistryTest, ListShowsAvailableAndLoaded) {
  FakeLoader loader;
  ModelRegistry registry(loader);
  registry.NoteAvailable("b", "/models/b");
  ASSERT_TRUE(registry.Load("a", "/models/good").ok());
  std::vector<ModelStatus> all = registry.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[0].state, ModelState::kReady);
  EXPECT_EQ(all[1].name, "b");
  EXPECT_EQ(all[1].state, ModelState::kAvailable);
}

TEST(ModelRepositoryTest, ListsModelDirectoriesAndRejectsEscapes) {
  testing::TempDir tmp;
  std::filesystem::create_directories(tmp / "tiny");
  testing::WriteFileOrDie(tmp / "tiny" / "config.json", "{}");
  std::filesystem::create_directories(tmp / "not-a-model");
  testing::WriteFileOrDie(tmp / "README", "x");
  ModelRepository repo(tmp.path());
  EXPECT_EQ(*repo.List(), std::vector<std::string>{"tiny"});
  EXPECT_TRUE(repo.PathOf("tiny").ok());
  EXPECT_EQ(repo.PathOf("ghost").status().code(), absl::StatusCode::kNotFound);
  for (const char* bad : {"", "..", "../etc", "a/b", "."}) {
    EXPECT_EQ(repo.PathOf(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(ModelRepository("/nonexistent/repo").List(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/repo")));
}

}  // namespace
}  // namespace accllm
