// Perplexity of a model on a text: the token stream is cut into non-overlapping windows of
// `context` tokens, each window is scored on its own (its first token is context only, tokens
// 2..C are predicted), and the mean negative log-likelihood per predicted token is reported —
// the number `accllm perplexity` prints.
#ifndef ACCLLM_CLIENT_EVAL_PERPLEXITY_H_
#define ACCLLM_CLIENT_EVAL_PERPLEXITY_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"        // absl::StatusOr
#include "model/attention_window.h"      // AttentionWindow
#include "model/model_dir.h"             // ModelDir
#include "workers/engine/llama_model.h"  // LlamaModel

namespace accllm {

// Cuts `ids` into consecutive windows of `context` tokens; the last, shorter window is kept
// when it has at least 2 tokens (one to predict). `context` < 2 is an InvalidArgument error
// naming --context.
absl::StatusOr<std::vector<std::vector<int32_t>>> SplitIntoWindows(std::span<const int32_t> ids,
                                                                   int64_t context);

// The tokens to score: exactly one of `text_file` (read whole and encoded with the model's
// tokenizer, BOS prepended) and `ids_file` (whitespace-separated ids, see ReadStreamFile).
// Errors name the flag (--text-file / --ids-file) and the file: NotFound when it cannot be
// opened, InvalidArgument when it is empty, holds fewer than 2 tokens or a bad id, and
// FailedPrecondition for text on a model without a tokenizer.
absl::StatusOr<std::vector<int32_t>> LoadPerplexityTokens(const ModelDir& dir,
                                                          const std::string& text_file,
                                                          const std::string& ids_file);

struct PerplexityOptions {
  int64_t context = 512;  // tokens per window
  // Windows run together in one batched step (LlamaModel::ForwardBatch): dense attention
  // prefills each window in one chunk, so a step holds batch x (context - 1) tokens; Λ
  // attention feeds one position per window per step, as `accllm eval` does.
  int32_t batch = 1;
  AttentionWindow attention = AttentionWindow::Dense();
  int32_t page_size = 16;  // KV page size of Λ / window attention
};

struct PerplexityReport {
  double nll = 0;      // mean −log p(token) over predicted tokens, nats
  double ppl = 0;      // exp(nll)
  int64_t tokens = 0;  // predicted tokens (each window's length − 1, summed)
  int64_t windows = 0;
  int64_t context = 0;
  int32_t batch = 0;
  std::string attention;  // "dense", "window:W" or "lambda:S,W"
};

// Scores each window on its own with `model`. The per-token NLLs are summed in window order,
// position order, the order Evaluate uses, so the result equals Evaluate's nll_model for the
// same model, windows and attention.
absl::StatusOr<PerplexityReport> ScoreWindows(const LlamaModel& model,
                                              const std::vector<std::vector<int32_t>>& windows,
                                              const PerplexityOptions& options);

// Splits `ids` (SplitIntoWindows) and scores the windows (ScoreWindows).
absl::StatusOr<PerplexityReport> Perplexity(const LlamaModel& model, std::span<const int32_t> ids,
                                            const PerplexityOptions& options);

// Everything `accllm perplexity` does but printing, from its flags' values.
struct PerplexityRequest {
  std::string model;      // model directory
  std::string text_file;  // exactly one of text_file and ids_file
  std::string ids_file;
  int64_t context = 512;
  std::string attention = "dense";  // see ParseAttention
  int32_t batch = 1;
  int32_t page_size = 16;
};
absl::StatusOr<PerplexityReport> RunPerplexity(const PerplexityRequest& request);

std::string PerplexityReportToJson(const PerplexityReport& report);

}  // namespace accllm

#endif  // ACCLLM_CLIENT_EVAL_PERPLEXITY_H_
