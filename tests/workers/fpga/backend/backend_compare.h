// Helpers of the FPGA backend's tests: quantizing a model for the card, serving requests
// through the scheduler on a backend, and a fixture that compares the emulated card with the
// CPU backend token for token.
#ifndef ACCLLM_TESTS_WORKERS_FPGA_BACKEND_BACKEND_COMPARE_H_
#define ACCLLM_TESTS_WORKERS_FPGA_BACKEND_BACKEND_COMPARE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "common/model_limits.h"
#include "model/model_dir.h"
#include "quant/model_quantizer.h"
#include "scheduler/clock.h"
#include "scheduler/scheduler.h"
#include "scheduler/sync_driver.h"
#include "tests/support/test_env.h"
#include "workers/backend/backend_worker.h"
#include "workers/engine/cpu_backend.h"
#include "workers/fpga/backend/fpga_backend.h"

namespace accllm::testing {

using scheduler::RequestParams;

// A W×A8 KV4 model quantized with round-to-nearest (no calibration: quick, and the tokens
// only have to agree between backends).
inline absl::Status Quantize(const std::filesystem::path& in, const std::filesystem::path& out,
                      int bits, Sparsity sparsity, int group) {
  absl::StatusOr<ModelDir> dir = OpenModelDir(in);
  if (!dir.ok()) return dir.status();
  ModelQuantizeOptions options;
  options.base.format.bits = bits;
  options.base.format.group = group;
  options.base.format.sparsity = sparsity;
  options.base.method = QuantMethod::kRtn;
  options.activation_bits = 8;
  options.kv_cache.bits = 4;
  return QuantizeModel(*dir, nullptr, options, out).status();
}

// Every request's streamed tokens when the requests share one scheduler and one backend.
inline std::vector<std::vector<int32_t>> Serve(Backend& backend, const std::filesystem::path& model,
                                        const std::vector<RequestParams>& requests,
                                        int32_t budget) {
  absl::StatusOr<ModelDir> dir = OpenModelDir(model);
  EXPECT_TRUE(dir.ok()) << dir.status();
  constexpr int32_t kPages = 256, kPageSize = 8;
  absl::StatusOr<std::unique_ptr<BackendModel>> loaded =
      backend.Load(*dir, {.kv_pages = kPages, .page_size = kPageSize, .threads = 1});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  if (!loaded.ok()) return {};
  BackendWorker worker(std::shared_ptr<BackendModel>(*std::move(loaded)));
  scheduler::FakeClock clock;
  scheduler::SchedulerOptions options;
  options.token_budget = budget;
  scheduler::Scheduler sched(LimitsFor(dir->config), options, &clock);
  absl::StatusOr<scheduler::WorkerId> id =
      sched.AddWorker({.name = "w", .num_pages = kPages, .page_size = kPageSize});
  EXPECT_TRUE(id.ok());
  scheduler::SyncDriver driver(sched);
  driver.Attach(*id, &worker);
  std::map<scheduler::RequestId, size_t> index;
  std::vector<std::vector<int32_t>> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::StatusOr<scheduler::RequestId> r = sched.Submit(
        requests[i], {.on_token = [&out, &index](scheduler::RequestId r,
                                                 int32_t t) { out[index[r]].push_back(t); },
                      .on_finished = nullptr});
    EXPECT_TRUE(r.ok()) << r.status();
    index[*r] = i;
  }
  absl::Status s = driver.RunUntilIdle();
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

inline std::vector<RequestParams> Requests(int n, int32_t vocab, int32_t max_tokens,
                                    AttentionWindow attention) {
  std::vector<RequestParams> requests;
  for (int i = 0; i < n; ++i) {
    RequestParams r;
    r.prompt = {1};
    for (int j = 0; j < 3 + (i * 11) % 29; ++j) r.prompt.push_back((i * 37 + j * 13 + 5) % vocab);
    r.max_tokens = max_tokens;
    r.sampling.temperature = i % 2 == 0 ? 0.0f : 0.9f;  // greedy and seeded sampling
    r.sampling.top_p = 0.95f;
    r.sampling.seed = 500 + i;
    r.attention = attention;
    requests.push_back(r);
  }
  return requests;
}

class FpgaBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<Backend>> emu = MakeEmulatedFpgaBackend();
    ASSERT_TRUE(emu.ok()) << emu.status();
    emu_ = *emu;
  }

  void ExpectSameTokens(const std::filesystem::path& model,
                        const std::vector<RequestParams>& requests, int32_t budget) {
    CpuBackend cpu;
    const auto on_cpu = Serve(cpu, model, requests, budget);
    const auto on_card = Serve(*emu_, model, requests, budget);
    ASSERT_EQ(on_cpu.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      EXPECT_EQ(on_card[i], on_cpu[i]) << "request " << i;
      EXPECT_EQ(static_cast<int32_t>(on_cpu[i].size()), requests[i].max_tokens);
    }
  }

  TempDir tmp_;
  std::shared_ptr<Backend> emu_;
};

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_WORKERS_FPGA_BACKEND_BACKEND_COMPARE_H_
