// The shape of a Llama-family decoder: the one source of model dimensions.
// Stored as a Hugging Face config.json (LlamaConfig field names).
#ifndef ACCLLM_MODEL_CONFIG_H_
#define ACCLLM_MODEL_CONFIG_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

struct ModelConfig {
  int32_t dim = 0;            // hidden_size
  int32_t hidden_dim = 0;     // intermediate_size (SwiGLU width)
  int32_t n_layers = 0;       // num_hidden_layers
  int32_t n_heads = 0;        // num_attention_heads
  int32_t n_kv_heads = 0;     // num_key_value_heads (GQA: divides n_heads)
  int32_t vocab_size = 0;
  int32_t max_seq_len = 0;    // max_position_embeddings: the trained context
  double norm_eps = 1e-5;     // rms_norm_eps
  double rope_theta = 10000.0;
  bool tie_embeddings = false;  // tie_word_embeddings: the head reuses the embedding
  int32_t bos_token_id = 1;
  std::vector<int32_t> eos_token_ids = {2};  // generation stops at any of these
  std::string torch_dtype = "float32";       // informative: dtype of the stored weights
  // Raw JSON of the "quantization_config" block, empty for a float model.
  std::string quantization_config_json;

  int32_t head_dim() const { return n_heads > 0 ? dim / n_heads : 0; }
  int32_t kv_dim() const { return n_kv_heads * head_dim(); }
  // Parameters of all linear layers, embedding and head (norms excluded).
  int64_t LinearParameterCount() const;
};

// Upper bounds far above any released model (Llama 3.1 405B: hidden 16384, intermediate 53248,
// 126 layers, vocabulary 128256) that keep every size derived from a config, such as
// LinearParameterCount, inside int64: config.json is untrusted input.
inline constexpr int32_t kMaxHiddenSize = 1 << 20;
inline constexpr int32_t kMaxIntermediateSize = 1 << 22;
inline constexpr int32_t kMaxHiddenLayers = 1 << 16;
inline constexpr int32_t kMaxVocabSize = 1 << 24;

// Every field consistent (dim divisible by heads, heads by kv heads, even head_dim,
// positive sizes, eos ids inside the vocabulary, ...). Messages name the field.
absl::Status ValidateConfig(const ModelConfig& config);

// Parses config.json text; `source` (a file name) prefixes every error message.
absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text, std::string_view source);
absl::StatusOr<ModelConfig> ReadModelConfig(const std::filesystem::path& config_json);

std::string ModelConfigToJson(const ModelConfig& config);
absl::Status WriteModelConfig(const ModelConfig& config, const std::filesystem::path& config_json);

inline constexpr std::string_view kConfigFileName = "config.json";

}  // namespace accllm

#endif  // ACCLLM_MODEL_CONFIG_H_
