// accllm bench-engine: prefill and decode speed of a model in process, through
// the path the worker serves (StepBatch → BackendWorker), next to the machine's
// read bandwidth measured in the same run, so decode can be stated as a
// fraction of the memory roofline.
#include <unistd.h>  // sysconf

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"                 // absl::GetFlag
#include "absl/flags/reflection.h"           // absl::FindCommandLineFlag
#include "absl/strings/str_cat.h"            // absl::StrCat
#include "absl/strings/str_format.h"         // absl::StrFormat
#include "client/cli/command.h"              // RunBenchEngine
#include "client/cli/device_flag.h"          // ChooseDeviceFromFlags
#include "client/cli/flags.h"                // FLAGS_*
#include "client/eval/evaluation.h"          // ParseAttention
#include "model/attention_window_check.h"    // ValidateAttentionWindow
#include "model/model_dir.h"                 // OpenModelDir
#include "nlohmann/json.hpp"                 // nlohmann::json
#include "scheduler/lambda_page_table.h"     // LambdaPageTable
#include "scheduler/page_pool.h"             // PagePool
#include "workers/backend/backend_worker.h"  // BackendWorker
#include "workers/cpu/gemm_a8.h"             // GemvTargetName
#include "workers/cpu/memory_bandwidth.h"    // MeasureReadBandwidth
#include "workers/cpu/thread_pool.h"         // ThreadPool

namespace accllm::cli {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// This process's resident memory (/proc/self/statm), 0 where there is no such file.
int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0, resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

// One benchmarked sequence: its page table and the token it feeds next.
struct BenchSequence {
  scheduler::LambdaPageTable table;
  int32_t next_token = 0;
};

// Appends `tokens` to every sequence's table and builds the step that feeds them.
absl::StatusOr<scheduler::StepBatch> PlanStep(std::vector<BenchSequence>& seqs,
                                              const std::vector<std::vector<int32_t>>& tokens,
                                              scheduler::PagePool& pages, uint64_t step_id) {
  scheduler::StepBatch batch;
  batch.step_id = step_id;
  for (size_t i = 0; i < seqs.size(); ++i) {
    absl::StatusOr<scheduler::AppendResult> appended =
        seqs[i].table.Append(static_cast<int64_t>(tokens[i].size()), pages);
    if (!appended.ok()) return appended.status();
    scheduler::SequenceChunk chunk;
    chunk.request_id = static_cast<scheduler::RequestId>(i + 1);
    chunk.tokens = tokens[i];
    chunk.first_position = appended->first_position;
    chunk.pages = std::move(appended->pages);
    chunk.page_copies = std::move(appended->copies);
    chunk.attention = seqs[i].table.spec();
    chunk.page_size = pages.page_size();
    chunk.sample = true;
    chunk.sampling.temperature = 0.0f;  // greedy: the cheapest sampler, deterministic
    chunk.sample_position = chunk.first_position + static_cast<int64_t>(chunk.tokens.size());
    batch.chunks.push_back(std::move(chunk));
  }
  return batch;
}

absl::Status RunStep(BackendWorker& worker, const scheduler::StepBatch& batch,
                     std::vector<BenchSequence>& seqs, scheduler::PagePool& pages) {
  absl::StatusOr<scheduler::StepOutput> out = worker.Step(batch);
  if (!out.ok()) return out.status();
  for (const scheduler::SampledToken& t : out->tokens) {
    seqs[static_cast<size_t>(t.request_id - 1)].next_token = t.token;
  }
  for (BenchSequence& s : seqs) s.table.ReleaseOutOfWindow(pages);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunBenchEngine(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  const std::string model_path = absl::GetFlag(FLAGS_model);
  if (model_path.empty()) return absl::InvalidArgumentError("--model is required");
  const int32_t batch = absl::GetFlag(FLAGS_batch);
  const int32_t prompt_tokens = absl::GetFlag(FLAGS_prompt_tokens);
  const int32_t gen_tokens = absl::GetFlag(FLAGS_gen_tokens);
  const int64_t context = absl::GetFlag(FLAGS_context);
  const int32_t threads_flag = absl::GetFlag(FLAGS_threads);
  const int32_t page_size = absl::GetFlag(FLAGS_page_size);
  if (batch < 1 || prompt_tokens < 1 || gen_tokens < 1 || context < 0 || threads_flag < 0 ||
      page_size < 1) {
    return absl::InvalidArgumentError(
        "--batch, --prompt-tokens, --gen-tokens and --page-size must be >= 1, --context and "
        "--threads >= 0");
  }
  // The benchmark's default is the serving default, Λ(4, 1024); an --attention other than
  // the flag's default (dense, the right default for eval) chooses another rule.
  AttentionWindow attention = AttentionWindow::Lambda(4, 1024);
  if (const absl::CommandLineFlag* flag = absl::FindCommandLineFlag("attention");
      flag != nullptr && flag->CurrentValue() != flag->DefaultValue()) {
    absl::StatusOr<AttentionWindow> parsed = ParseAttention(absl::GetFlag(FLAGS_attention));
    if (!parsed.ok()) return parsed.status();
    attention = *parsed;
  }
  if (absl::Status s = ValidateAttentionWindow(attention); !s.ok()) return s;
  const int threads =
      threads_flag > 0 ? threads_flag : static_cast<int>(std::thread::hardware_concurrency());

  // The roofline: read bandwidth right before and right after the timed decode steps, with
  // their thread count (a shared machine's bandwidth drifts by tens of percent over minutes;
  // the mean of the two brackets what the decode saw). The buffer is touched now, before
  // the model's pages compete for memory.
  const BandwidthBuffer bandwidth_buffer(int64_t{1} << 30);
  ThreadPool bandwidth_pool(threads);

  // What loading costs a server: its time, and the resident memory the model adds.
  const int64_t resident_before_load = ResidentBytes();
  const auto t_load = Clock::now();
  absl::StatusOr<ModelDir> dir = OpenModelDir(model_path);
  if (!dir.ok()) return dir.status();
  const ModelConfig& config = dir->config;
  if (attention.dense && context + prompt_tokens + gen_tokens > config.max_seq_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("dense attention over ", context + prompt_tokens + gen_tokens,
                     " positions exceeds the model's context ", config.max_seq_len,
                     "; use --attention lambda:S,W"));
  }

  const int64_t positions = context + prompt_tokens + gen_tokens;
  const int64_t per_seq = scheduler::LambdaPageTable::PagesToRun(attention, page_size, positions);
  const int32_t num_pages = static_cast<int32_t>(per_seq * batch + 1);
  scheduler::PagePool pages(num_pages, page_size);
  absl::StatusOr<DeviceChoice> device = ChooseDeviceFromFlags();
  if (!device.ok()) return device.status();
  absl::StatusOr<std::unique_ptr<BackendModel>> loaded = device->instance->Load(
      *dir, {.kv_pages = num_pages, .page_size = page_size, .threads = threads});
  if (!loaded.ok()) return loaded.status();
  std::shared_ptr<BackendModel> model = *std::move(loaded);
  const double load_s = Seconds(t_load);
  const int64_t model_resident_bytes = ResidentBytes() - resident_before_load;
  BackendWorker worker(model);

  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> token(3, config.vocab_size - 1);
  std::vector<std::vector<int32_t>> prompts(batch, std::vector<int32_t>(prompt_tokens));
  for (auto& p : prompts) {
    for (int32_t& t : p) t = token(rng);
  }
  uint64_t step_id = 0;
  // An untimed warm-up of the same shape (a prefill and one decode step), as a server is
  // warm after its first requests: the timed steps then measure the kernels, not the first
  // touch of the step's buffers and the pool's pages.
  {
    std::vector<BenchSequence> warm;
    for (int32_t b = 0; b < batch; ++b)
      warm.push_back({scheduler::LambdaPageTable(attention, page_size), 0});
    for (int step = 0; step < 2; ++step) {
      std::vector<std::vector<int32_t>> tokens = prompts;
      if (step == 1) {
        for (int32_t b = 0; b < batch; ++b) tokens[b] = {warm[b].next_token};
      }
      absl::StatusOr<scheduler::StepBatch> planned = PlanStep(warm, tokens, pages, ++step_id);
      if (!planned.ok()) return planned.status();
      if (absl::Status s = RunStep(worker, *planned, warm, pages); !s.ok()) return s;
    }
    for (BenchSequence& s : warm) s.table.ReleaseAll(pages);
  }

  std::vector<BenchSequence> seqs;
  for (int32_t b = 0; b < batch; ++b)
    seqs.push_back({scheduler::LambdaPageTable(attention, page_size), 0});
  // --context: the positions before the prompt are only assigned pages, not computed
  // (their K/V stay zero). Attention cost depends on how many positions a query reads,
  // not on their values, so decode after them costs what it would after a real prefix.
  if (context > 0) {
    // In pieces of one page, as decoding would, so a Λ table never holds more than its window.
    for (BenchSequence& s : seqs) {
      for (int64_t done = 0; done < context; done += page_size) {
        absl::StatusOr<scheduler::AppendResult> skipped =
            s.table.Append(std::min<int64_t>(page_size, context - done), pages);
        if (!skipped.ok()) return skipped.status();
        s.table.ReleaseOutOfWindow(pages);
      }
    }
  }

  absl::StatusOr<scheduler::StepBatch> prefill = PlanStep(seqs, prompts, pages, ++step_id);
  if (!prefill.ok()) return prefill.status();
  const auto phases_before_prefill = model->PhaseSeconds();
  const auto t_prefill = Clock::now();
  if (absl::Status s = RunStep(worker, *prefill, seqs, pages); !s.ok()) return s;
  const double prefill_s = Seconds(t_prefill);
  const auto phases_after_prefill = model->PhaseSeconds();

  const double bandwidth_before = MeasureReadBandwidth(bandwidth_buffer, bandwidth_pool, 3);
  const DeviceCounters counters_before = model->counters();
  const auto phases_before = model->PhaseSeconds();
  double decode_s = 0.0;
  for (int32_t g = 0; g < gen_tokens; ++g) {
    std::vector<std::vector<int32_t>> next(batch);
    for (int32_t b = 0; b < batch; ++b) next[b] = {seqs[b].next_token};
    absl::StatusOr<scheduler::StepBatch> step = PlanStep(seqs, next, pages, ++step_id);
    if (!step.ok()) return step.status();
    const auto t0 = Clock::now();
    if (absl::Status s = RunStep(worker, *step, seqs, pages); !s.ok()) return s;
    decode_s += Seconds(t0);
  }

  const DeviceCounters counters_after = model->counters();
  const auto phases_after = model->PhaseSeconds();
  const double bandwidth_after = MeasureReadBandwidth(bandwidth_buffer, bandwidth_pool, 3);
  const double bandwidth = (bandwidth_before + bandwidth_after) / 2;
  const double prefill_tok_s = static_cast<double>(batch) * prompt_tokens / prefill_s;
  const double steps_per_s = gen_tokens / decode_s;
  const double decode_tok_s = steps_per_s * batch;
  const int64_t weight_bytes = model->WeightBytesPerStep();
  // Weights stream once per decode step whatever the batch, so the roofline is in steps/s.
  const double roofline_fraction = static_cast<double>(weight_bytes) * steps_per_s / bandwidth;
  const std::string attention_name =
      attention.dense ? "dense" : absl::StrCat("lambda:", attention.sinks, ",", attention.window);

  nlohmann::json j;
  j["model"] = model_path;
  j["device"] = device->backend;
  j["simd_target"] = GemvTargetName();
  j["threads"] = threads;
  j["batch"] = batch;
  j["prompt_tokens"] = prompt_tokens;
  j["gen_tokens"] = gen_tokens;
  j["context"] = context;
  j["attention"] = attention_name;
  j["kv_bits"] = model->kv_format().bits;
  // What the device counted over the timed decode steps (the emulated card counts every HBM
  // byte its kernels read; the CPU counts the weights it streamed).
  const double decoded = static_cast<double>(gen_tokens) * batch;
  j["device_bytes_per_token"] =
      static_cast<double>(counters_after.bytes_read - counters_before.bytes_read) / decoded;
  j["device_launches_per_step"] =
      static_cast<double>(counters_after.launches - counters_before.launches) / gen_tokens;
  j["device_kernel_ms_per_step"] =
      1e3 * (counters_after.kernel_seconds - counters_before.kernel_seconds) / gen_tokens;
  j["load_s"] = load_s;
  j["model_resident_bytes"] = model_resident_bytes;
  j["prefill_tok_s"] = prefill_tok_s;
  j["decode_tok_s"] = decode_tok_s;
  j["decode_step_ms"] = 1e3 / steps_per_s;
  j["weight_bytes_per_token"] = weight_bytes;
  j["read_bandwidth_gb_s"] = bandwidth * 1e-9;
  j["read_bandwidth_before_gb_s"] = bandwidth_before * 1e-9;
  j["read_bandwidth_after_gb_s"] = bandwidth_after * 1e-9;
  j["roofline_fraction"] = roofline_fraction;
  // Where a step's time goes: each phase's wall time per decode step (and over the prefill),
  // and what no phase covers (the step's checks, batching, sampling; "other").
  using PhaseList = std::vector<std::pair<std::string, double>>;
  const auto phases = [](const PhaseList& before, const PhaseList& after, double divisor,
                         double step_ms) {
    nlohmann::json out = nlohmann::json::object();
    double covered = 0;
    for (size_t p = 0; p < after.size() && p < before.size(); ++p) {
      const double ms = 1e3 * (after[p].second - before[p].second) / divisor;
      out[after[p].first] = ms;
      covered += ms;
    }
    if (!out.empty()) out["other"] = step_ms - covered;
    return out;
  };
  j["phases_ms"] = phases(phases_before, phases_after, gen_tokens, 1e3 / steps_per_s);
  j["prefill_phases_ms"] =
      phases(phases_before_prefill, phases_after_prefill, 1.0, 1e3 * prefill_s);
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << j.dump() << "\n";
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat(
      "model %s  device %s  target %s  threads %d  batch %d  prompt %d  gen %d  context %d  "
      "attention %s\n"
      "load_s %.2f  model_resident_bytes %d\n"
      "prefill_tok_s %.1f\ndecode_tok_s %.2f  (%.2f ms/step)\nweight_bytes_per_token %d\n"
      "read_bandwidth %.1f GB/s\nroofline_fraction %.3f\n"
      "device_bytes_per_token %.0f  device_launches_per_step %.2f  device_kernel_ms_per_step "
      "%.3f\n",
      model_path, device->backend, GemvTargetName(), threads, batch, prompt_tokens, gen_tokens,
      context, attention_name, load_s, model_resident_bytes, prefill_tok_s, decode_tok_s,
      1e3 / steps_per_s, weight_bytes, bandwidth * 1e-9, roofline_fraction,
      j["device_bytes_per_token"].get<double>(), j["device_launches_per_step"].get<double>(),
      j["device_kernel_ms_per_step"].get<double>());
  if (!j["phases_ms"].empty()) {
    std::cout << "decode phases (ms/step):";
    for (const auto& [name, ms] : j["phases_ms"].items()) {
      std::cout << absl::StrFormat(" %s %.3f", name, ms.get<double>());
    }
    std::cout << "\n";
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
