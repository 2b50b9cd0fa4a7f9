// The whole pipeline in one process: scheduler → backend worker → CPU backend, with
// real models. Batching, chunked prefill, preemption and worker failure must not
// change a single token.
#include "workers/backend/backend_worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/model_limits.h"
#include "model/llama2c_checkpoint.h"
#include "model/model_dir.h"
#include "scheduler/clock.h"
#include "scheduler/sync_driver.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"
#include "workers/engine/cpu_backend.h"
#include "workers/engine/generate.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using scheduler::RequestParams;
using ::testing::HasSubstr;

class BackendWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Llama2cShape shape;
    shape.seq_len = 512;
    shape.vocab_size = 96;
    testing::WriteRandomLlama2c(tmp_ / "m.bin", shape, 77, 0.35f);
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "m", {}).ok());
    absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
    ASSERT_TRUE(dir.ok()) << dir.status();
    model_ = *LlamaModel::Load(*dir);
  }

  std::vector<int32_t> Prompt(int i) const {
    std::vector<int32_t> p = {1};
    for (int j = 0; j < 3 + (i * 7) % 40; ++j) p.push_back((i * 31 + j * 17 + 5) % 96);
    return p;
  }

  RequestParams Params(int i, AttentionWindow attention, float temperature = 0.0f) const {
    RequestParams r;
    r.prompt = Prompt(i);
    r.max_tokens = 24;
    r.sampling.temperature = temperature;
    r.sampling.seed = 1000 + i;
    r.attention = attention;
    return r;
  }

  // Runs `requests` through one scheduler; returns each request's streamed tokens.
  std::vector<std::vector<int32_t>> RunThroughScheduler(const std::vector<RequestParams>& requests,
                                                        int32_t num_pages, int32_t budget,
                                                        int workers = 1, int fail_after = -1,
                                                        int64_t* preemptions = nullptr,
                                                        int* failed_steps = nullptr,
                                                        int* lost_chunks = nullptr) {
    scheduler::FakeClock clock;
    scheduler::SchedulerOptions options;
    options.token_budget = budget;
    scheduler::Scheduler sched(LimitsFor(model_->config()), options, &clock);
    std::vector<std::unique_ptr<BackendWorker>> engines;
    std::vector<std::unique_ptr<FlakyWorker>> flaky;
    scheduler::SyncDriver driver(sched);
    for (int w = 0; w < workers; ++w) {
      scheduler::WorkerOptions wo;
      wo.name = "w" + std::to_string(w);
      wo.num_pages = num_pages;
      wo.page_size = 8;
      absl::StatusOr<scheduler::WorkerId> id = sched.AddWorker(wo);
      EXPECT_TRUE(id.ok());
      engines.push_back(
          std::make_unique<BackendWorker>(CpuBackend::Wrap(model_, num_pages, 8)));
      flaky.push_back(std::make_unique<FlakyWorker>(engines.back().get(), w == 0 ? fail_after : -1));
      driver.Attach(*id, flaky.back().get());
    }
    std::map<scheduler::RequestId, size_t> index;
    std::vector<std::vector<int32_t>> out(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      absl::StatusOr<scheduler::RequestId> id = sched.Submit(
          requests[i], {.on_token = [&out, &index](scheduler::RequestId r,
                                                   int32_t t) { out[index[r]].push_back(t); },
                        .on_finished = nullptr});
      EXPECT_TRUE(id.ok()) << id.status();
      index[*id] = i;
    }
    absl::Status s = driver.RunUntilIdle();
    EXPECT_TRUE(s.ok()) << s;
    if (preemptions) *preemptions = sched.Counters().preemptions_total;
    if (failed_steps) *failed_steps = flaky.empty() ? 0 : flaky[0]->failed;
    if (lost_chunks) *lost_chunks = flaky.empty() ? 0 : flaky[0]->lost_chunks;
    return out;
  }

  // Fails every step from its `fail_after`-th on, like a worker that died.
  struct FlakyWorker : scheduler::Worker {
    FlakyWorker(scheduler::Worker* inner, int fail_after) : inner(inner), fail_after(fail_after) {}
    absl::StatusOr<scheduler::StepOutput> Step(const scheduler::StepBatch& batch) override {
      if (fail_after >= 0 && steps++ >= fail_after) {
        ++failed;
        lost_chunks += static_cast<int>(batch.chunks.size());
        return absl::UnavailableError("worker died");
      }
      return inner->Step(batch);
    }
    scheduler::Worker* inner;
    int fail_after;
    int steps = 0;
    int failed = 0;       // steps it refused
    int lost_chunks = 0;  // sequences in them (recomputed on the other worker)
  };

  testing::TempDir tmp_;
  std::shared_ptr<const LlamaModel> model_;
};

TEST_F(BackendWorkerTest, SixteenConcurrentRequestsEqualEachRunAlone) {
  std::vector<RequestParams> requests;
  for (int i = 0; i < 16; ++i) requests.push_back(Params(i, AttentionWindow::Lambda(4, 512)));
  const auto batched = RunThroughScheduler(requests, 512, 64);
  for (int i = 0; i < 16; ++i) {
    GenerateOptions o;
    o.max_tokens = 24;
    o.sampling.temperature = 0.0f;
    o.stop_ids = {-1};
    absl::StatusOr<GenerateResult> alone = Generate(*model_, requests[i].prompt, o);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ(batched[i], alone->tokens) << "request " << i;
  }
}

TEST_F(BackendWorkerTest, LambdaBatchesEqualLambdaAloneAndSampledTokensToo) {
  for (float temperature : {0.0f, 1.0f}) {
    std::vector<RequestParams> requests;
    for (int i = 0; i < 8; ++i) {
      requests.push_back(Params(i, AttentionWindow::Lambda(2, 12), temperature));
    }
    const auto batched = RunThroughScheduler(requests, 256, 40);
    for (int i = 0; i < 8; ++i) {
      const auto alone = RunThroughScheduler({requests[i]}, 256, 7);  // other chunking too
      EXPECT_EQ(batched[i], alone[0]) << "request " << i << " temperature " << temperature;
      EXPECT_EQ(batched[i].size(), 24u);
    }
  }
}

TEST_F(BackendWorkerTest, PreemptionWhenThePoolRunsDryChangesNoToken) {
  std::vector<RequestParams> requests;
  for (int i = 0; i < 6; ++i) requests.push_back(Params(i, AttentionWindow::Dense()));
  const auto roomy = RunThroughScheduler(requests, 512, 64);
  int64_t preemptions = 0;
  const auto tight = RunThroughScheduler(requests, 14, 64, 1, -1, &preemptions);
  EXPECT_GT(preemptions, 0);
  EXPECT_EQ(tight, roomy);
}

TEST_F(BackendWorkerTest, AWorkerDyingMidStreamLosesAndDuplicatesNothing) {
  std::vector<RequestParams> requests;
  for (int i = 0; i < 8; ++i) requests.push_back(Params(i, AttentionWindow::Lambda(4, 64), 1.0f));
  const auto healthy = RunThroughScheduler(requests, 256, 48, 2);
  int failed_steps = 0, lost_chunks = 0;
  const auto failing = RunThroughScheduler(requests, 256, 48, 2, /*fail_after=*/5, nullptr,
                                           &failed_steps, &lost_chunks);
  // The worker did fail, once (then it is dead to the scheduler), holding sequences.
  EXPECT_EQ(failed_steps, 1) << "the flaky worker never failed (or was asked again after)";
  EXPECT_GT(lost_chunks, 0) << "the failed step carried no sequence: nothing was recomputed";
  EXPECT_EQ(failing, healthy);
}

TEST_F(BackendWorkerTest, BadStepsAreErrorsNotCrashes) {
  BackendWorker worker(CpuBackend::Wrap(model_, 4, 8));
  scheduler::StepBatch batch;
  scheduler::SequenceChunk chunk;
  chunk.request_id = 3;
  chunk.tokens = {1, 2};
  chunk.page_size = 8;
  chunk.attention = AttentionWindow::Dense();
  batch.chunks.push_back(chunk);  // no pages at all
  absl::StatusOr<scheduler::StepOutput> out = worker.Step(batch);
  EXPECT_THAT(out, StatusIs(absl::StatusCode::kFailedPrecondition,
                            HasSubstr("request 3: position 0 (logical page 0) has no page")));
  batch.chunks[0].pages = {{0, 0}};
  batch.chunks[0].page_copies = {{0, 9}};
  EXPECT_EQ(worker.Step(batch).status().code(), absl::StatusCode::kOutOfRange);
  batch.chunks[0].page_copies.clear();
  batch.chunks[0].page_size = 16;
  EXPECT_THAT(worker.Step(batch),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("request 3: chunk page size 16 differs from the worker's 8")));
}

}  // namespace
}  // namespace accllm
