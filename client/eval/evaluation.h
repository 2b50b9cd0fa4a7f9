// Quality of a model against a reference on token streams: KL(reference‖model),
// top-1 agreement and NLL per token, NLL by 256-token segment, and the KV pages a
// sequence held — the numbers `accllm eval` prints.
#ifndef ACCLLM_CLIENT_EVAL_EVALUATION_H_
#define ACCLLM_CLIENT_EVAL_EVALUATION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"             // absl::StatusOr
#include "model/attention_window.h"          // AttentionWindow
#include "workers/backend/backend.h"          // BackendModel
#include "workers/engine/llama_model.h"       // LlamaModel
#include "workers/engine/paged_kv.h"          // SequencePager

namespace accllm {

// Streams of token ids sampled from a model at temperature 1 (seeded).
// `length`: each stream is BOS + length−1 sampled tokens, within the trained context.
absl::StatusOr<std::vector<std::vector<int32_t>>> SampleStreams(const LlamaModel& model,
                                                                int32_t count, int32_t length,
                                                                uint64_t seed);
// One stream of `length` tokens made by concatenating independent samples, each
// BOS + tokens up to the trained context or a stop token.
absl::StatusOr<std::vector<int32_t>> SampleConcatenatedStream(const LlamaModel& model,
                                                              int64_t length, uint64_t seed);
// Whitespace-separated token ids; errors name the file and the offending item.
absl::StatusOr<std::vector<int32_t>> ReadStreamFile(const std::string& path, int32_t vocab_size);

// "dense", "window:W" (no sinks) or "lambda:S,W".
absl::StatusOr<AttentionWindow> ParseAttention(const std::string& text);

struct EvalOptions {
  AttentionWindow attention = AttentionWindow::Dense();  // for the model; the reference is dense
  int32_t page_size = 16;
  int32_t num_pages = 0;  // the model's page pool
  // One pager per stream, over a pool of num_pages pages of page_size positions.
  // Unset: the model runs with a dense cache.
  std::function<std::unique_ptr<SequencePager>()> make_pager;
  int32_t chunk = 256;  // prefill chunk size for the paged path
  int32_t segment = 256;  // tokens per nll_by_segment entry
};

struct EvalReport {
  int64_t tokens = 0;  // predicted tokens
  double kl_mean = 0;  // mean KL(reference ‖ model) per predicted token, nats
  double top1_agreement = 0;
  double nll_model = 0;  // mean −log p(next token), nats
  double nll_reference = 0;
  std::vector<double> nll_by_segment;  // model NLL per segment of predicted positions
  int64_t max_pages_per_sequence = 0;  // 0 for dense attention
  double bits_per_weight = 32;         // of the model's linear weights
};

// Runs both models over every stream (the token at position p is predicted
// from positions < p) and aggregates.
absl::StatusOr<EvalReport> Evaluate(const LlamaModel& model, const LlamaModel& reference,
                                    const std::vector<std::vector<int32_t>>& streams,
                                    const EvalOptions& options);

// The same with the model on a backend (`accllm eval --device`, e.g. the emulated FPGA card):
// each chunk's positions run as one step in which every position samples its logits, over the
// pager's pages (Λ) or pages 0, 1, ... of the model's pool (dense: the pool must cover the
// longest stream).
absl::StatusOr<EvalReport> EvaluateOnBackend(BackendModel& model, const LlamaModel& reference,
                                             const std::vector<std::vector<int32_t>>& streams,
                                             const EvalOptions& options);

std::string EvalReportToJson(const EvalReport& report);

}  // namespace accllm

#endif  // ACCLLM_CLIENT_EVAL_EVALUATION_H_
