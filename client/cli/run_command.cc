// accllm run: generation in process through the whole pipeline — the scheduler
// (chunked prefill, Λ pages) driving an engine worker — streamed to stdout.
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"                   // absl::GetFlag
#include "absl/strings/str_cat.h"              // absl::StrCat
#include "absl/strings/str_join.h"             // absl::StrJoin
#include "client/cli/command.h"                // RunRun
#include "client/cli/device_flag.h"            // ChooseDeviceFromFlags
#include "client/cli/flags.h"                  // FLAGS_*
#include "client/eval/evaluation.h"            // ParseAttention
#include "common/model_limits.h"               // LimitsFor
#include "model/model_dir.h"                   // OpenModelDir
#include "model/tokenizer/utf8_stream.h"       // Utf8Stream
#include "scheduler/clock.h"                   // SteadyClock
#include "scheduler/sync_driver.h"             // SyncDriver
#include "spdlog/spdlog.h"                     // spdlog::info
#include "workers/backend/backend_worker.h"    // BackendWorker
#include "workers/backend/sampler.h"           // ValidateSamplingParams

namespace accllm::cli {

namespace {
constexpr int32_t kPageSize = 16;
}  // namespace

absl::Status RunRun(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  const std::string model_path = absl::GetFlag(FLAGS_model);
  if (model_path.empty()) return absl::InvalidArgumentError("--model is required");
  const std::string prompt_text = absl::GetFlag(FLAGS_prompt);
  const std::string prompt_ids = absl::GetFlag(FLAGS_prompt_ids);
  if (prompt_text.empty() == prompt_ids.empty()) {
    return absl::InvalidArgumentError("give exactly one of --prompt and --prompt-ids");
  }
  absl::StatusOr<AttentionWindow> attention = ParseAttention(absl::GetFlag(FLAGS_attention));
  if (!attention.ok()) return attention.status();

  const auto t_load = std::chrono::steady_clock::now();
  absl::StatusOr<ModelDir> dir = OpenModelDir(model_path);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<DeviceChoice> device = ChooseDeviceFromFlags();
  if (!device.ok()) return device.status();
  if (absl::GetFlag(FLAGS_threads) < 0) return absl::InvalidArgumentError("--threads must be >= 0");
  const ModelConfig& config = dir->config;

  scheduler::RequestParams request;
  if (!prompt_ids.empty()) {
    if (absl::Status s = ParseTokenIds(prompt_ids, &request.prompt); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--prompt-ids: ", s.message()));
    }
  } else {
    if (dir->tokenizer == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          model_path, " has no tokenizer (tokenizer.model or tokenizer.bin); use --prompt-ids"));
    }
    absl::StatusOr<std::vector<int32_t>> ids = dir->tokenizer->Encode(prompt_text, true);
    if (!ids.ok()) return ids.status();
    request.prompt = *std::move(ids);
  }
  const bool print_ids = absl::GetFlag(FLAGS_ids) || dir->tokenizer == nullptr;
  if (!absl::GetFlag(FLAGS_ids) && dir->tokenizer == nullptr) {
    spdlog::warn("{} has no tokenizer: printing token ids", model_path);
  }
  SamplingParams sampling;
  sampling.temperature = absl::GetFlag(FLAGS_temperature);
  sampling.top_p = absl::GetFlag(FLAGS_top_p);
  sampling.top_k = absl::GetFlag(FLAGS_top_k);
  if (absl::Status s = ValidateSamplingParams(sampling); !s.ok()) return s;
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  request.sampling = {.temperature = sampling.temperature,
                      .top_k = sampling.top_k,
                      .top_p = sampling.top_p,
                      .seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}()};
  request.max_tokens = absl::GetFlag(FLAGS_max_tokens);
  if (!absl::GetFlag(FLAGS_ignore_eos)) request.stop_token_ids = config.eos_token_ids;
  request.attention = *attention;
  if (attention->dense) {
    // A dense sequence cannot outgrow the trained context: stop there, as llama2.c does.
    const int64_t room = config.max_seq_len - static_cast<int64_t>(request.prompt.size());
    if (room <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("the prompt has ", request.prompt.size(),
                                                     " tokens, the model's context is ",
                                                     config.max_seq_len));
    }
    request.max_tokens = static_cast<int32_t>(std::min<int64_t>(request.max_tokens, room));
  }

  // One worker with a pool that can hold this one sequence.
  const int64_t positions = static_cast<int64_t>(request.prompt.size()) + request.max_tokens;
  const int32_t pages = static_cast<int32_t>(
      scheduler::LambdaPageTable::PagesToRun(*attention, kPageSize, positions) + 1);
  scheduler::SteadyClock clock;
  scheduler::Scheduler sched(LimitsFor(config), {}, &clock);
  absl::StatusOr<scheduler::WorkerId> worker_id =
      sched.AddWorker({.name = "local", .num_pages = pages, .page_size = kPageSize,
                       .token_budget = 0});
  if (!worker_id.ok()) return worker_id.status();
  absl::StatusOr<std::unique_ptr<BackendModel>> model = device->instance->Load(
      *dir, {.kv_pages = pages, .page_size = kPageSize, .threads = absl::GetFlag(FLAGS_threads)});
  if (!model.ok()) return model.status();
  BackendWorker worker(std::shared_ptr<BackendModel>(*std::move(model)));
  scheduler::SyncDriver driver(sched);
  driver.Attach(*worker_id, &worker);

  std::vector<int32_t> generated;
  int32_t prev = request.prompt.back();
  Utf8Stream utf8;
  absl::Status decode_status;
  scheduler::Completion completion;
  const auto t_start = std::chrono::steady_clock::now();
  absl::StatusOr<scheduler::RequestId> id = sched.Submit(
      request, {.on_token =
                    [&](scheduler::RequestId, int32_t token) {
                      generated.push_back(token);
                      if (!print_ids && decode_status.ok()) {
                        absl::StatusOr<std::string> piece = dir->tokenizer->DecodeToken(prev, token);
                        if (piece.ok()) {
                          std::cout << utf8.Push(*piece) << std::flush;
                        } else {
                          decode_status = piece.status();
                        }
                      }
                      prev = token;
                    },
                .on_finished = [&](const scheduler::Completion& c) { completion = c; }});
  if (!id.ok()) return id.status();
  if (absl::Status s = driver.RunUntilIdle(); !s.ok()) return s;
  if (!decode_status.ok()) return decode_status;
  if (completion.reason == scheduler::FinishReason::kError) {
    return absl::InternalError(completion.message);
  }
  const auto t_end = std::chrono::steady_clock::now();
  if (print_ids) {
    std::cout << absl::StrJoin(generated, " ") << "\n";
  } else {
    std::cout << utf8.Flush() << "\n";
  }
  const double load_s = std::chrono::duration<double>(t_start - t_load).count();
  const double gen_s = std::chrono::duration<double>(t_end - t_start).count();
  spdlog::info("{} prompt + {} generated tokens in {:.3f} s ({:.1f} tok/s, load {:.2f} s), "
               "finish: {}",
               request.prompt.size(), generated.size(), gen_s,
               (request.prompt.size() + generated.size()) / std::max(gen_s, 1e-9), load_s,
               std::string(scheduler::FinishReasonName(completion.reason)));
  return absl::OkStatus();
}

}  // namespace accllm::cli
