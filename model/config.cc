#include "model/config.h"

#include <nlohmann/json.hpp>  // nlohmann::json

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/file_util.h"       // ReadWholeFile, WriteFileAtomically
#include "model/json_util.h"       // DescribeJsonError

namespace accllm {

using nlohmann::json;

int64_t ModelConfig::LinearParameterCount() const {
  const int64_t d = dim, h = hidden_dim, kv = kv_dim();
  const int64_t per_layer = d * d * 2 + d * kv * 2 + d * h * 3;
  return per_layer * n_layers + int64_t{vocab_size} * d * (tie_embeddings ? 1 : 2);
}

absl::Status ValidateConfig(const ModelConfig& c) {
  auto bad = [](std::string what) { return absl::InvalidArgumentError(what); };
  if (c.dim <= 0) return bad(absl::StrCat("hidden_size must be positive, got ", c.dim));
  if (c.hidden_dim <= 0) {
    return bad(absl::StrCat("intermediate_size must be positive, got ", c.hidden_dim));
  }
  if (c.n_layers <= 0) {
    return bad(absl::StrCat("num_hidden_layers must be positive, got ", c.n_layers));
  }
  auto too_large = [&](const char* field, int32_t value, int32_t limit) {
    return bad(absl::StrCat(field, " ", value, " exceeds the limit of ", limit));
  };
  if (c.dim > kMaxHiddenSize) return too_large("hidden_size", c.dim, kMaxHiddenSize);
  if (c.hidden_dim > kMaxIntermediateSize) {
    return too_large("intermediate_size", c.hidden_dim, kMaxIntermediateSize);
  }
  if (c.n_layers > kMaxHiddenLayers) {
    return too_large("num_hidden_layers", c.n_layers, kMaxHiddenLayers);
  }
  if (c.n_heads <= 0) {
    return bad(absl::StrCat("num_attention_heads must be positive, got ", c.n_heads));
  }
  if (c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0) {
    return bad(absl::StrCat("num_key_value_heads (", c.n_kv_heads,
                            ") must be positive and divide num_attention_heads (", c.n_heads,
                            ")"));
  }
  if (c.dim % c.n_heads != 0) {
    return bad(absl::StrCat("hidden_size (", c.dim, ") must be divisible by num_attention_heads (",
                            c.n_heads, ")"));
  }
  if (c.head_dim() % 2 != 0) {
    return bad(absl::StrCat("head dimension ", c.head_dim(), " must be even for RoPE"));
  }
  if (c.vocab_size <= 0) return bad(absl::StrCat("vocab_size must be positive, got ", c.vocab_size));
  if (c.vocab_size > kMaxVocabSize) return too_large("vocab_size", c.vocab_size, kMaxVocabSize);
  if (c.max_seq_len <= 0) {
    return bad(absl::StrCat("max_position_embeddings must be positive, got ", c.max_seq_len));
  }
  if (!(c.norm_eps > 0.0) || c.norm_eps > 1.0) {
    return bad(absl::StrCat("rms_norm_eps must be in (0, 1], got ", c.norm_eps));
  }
  if (!(c.rope_theta > 0.0)) return bad(absl::StrCat("rope_theta must be positive, got ", c.rope_theta));
  if (c.bos_token_id < 0 || c.bos_token_id >= c.vocab_size) {
    return bad(absl::StrCat("bos_token_id ", c.bos_token_id, " is outside the vocabulary [0, ",
                            c.vocab_size, ")"));
  }
  for (int32_t eos : c.eos_token_ids) {
    if (eos < 0 || eos >= c.vocab_size) {
      return bad(absl::StrCat("eos_token_id ", eos, " is outside the vocabulary [0, ",
                              c.vocab_size, ")"));
    }
  }
  return absl::OkStatus();
}

namespace {

// Reads an integer field; `required` fields must be present.
absl::Status GetInt(const json& j, const char* key, bool required, int32_t* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat("missing field \"", key, "\""));
    return absl::OkStatus();
  }
  if (!it->is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", key, "\" must be an integer, got ", it->dump()));
  }
  const int64_t v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("field \"", key, "\" is out of range: ", v));
  }
  *out = static_cast<int32_t>(v);
  return absl::OkStatus();
}

template <typename T>
absl::Status GetNumber(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", key, "\" must be a number, got ", it->dump()));
  }
  *out = it->get<T>();
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> ParseJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("config is not a JSON object");
  if (auto it = j.find("model_type"); it != j.end() && it->is_string()) {
    const std::string type = it->get<std::string>();
    if (type != "llama" && type != "mistral") {
      return absl::InvalidArgumentError(absl::StrCat(
          "model_type \"", type, "\" is not supported (accllm runs Llama-family decoders)"));
    }
  }
  ModelConfig c;
  absl::Status s;
  if (!(s = GetInt(j, "hidden_size", true, &c.dim)).ok()) return s;
  if (!(s = GetInt(j, "intermediate_size", true, &c.hidden_dim)).ok()) return s;
  if (!(s = GetInt(j, "num_hidden_layers", true, &c.n_layers)).ok()) return s;
  if (!(s = GetInt(j, "num_attention_heads", true, &c.n_heads)).ok()) return s;
  c.n_kv_heads = c.n_heads;  // HF's default when the field is absent (no GQA)
  if (!(s = GetInt(j, "num_key_value_heads", false, &c.n_kv_heads)).ok()) return s;
  if (!(s = GetInt(j, "vocab_size", true, &c.vocab_size)).ok()) return s;
  c.max_seq_len = 2048;
  if (!(s = GetInt(j, "max_position_embeddings", false, &c.max_seq_len)).ok()) return s;
  if (!(s = GetNumber(j, "rms_norm_eps", &c.norm_eps)).ok()) return s;
  if (!(s = GetNumber(j, "rope_theta", &c.rope_theta)).ok()) return s;
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
    return absl::InvalidArgumentError("field \"rope_scaling\" is not supported yet");
  }
  if (auto it = j.find("tie_word_embeddings"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return absl::InvalidArgumentError("field \"tie_word_embeddings\" must be true or false");
    }
    c.tie_embeddings = it->get<bool>();
  }
  if (!(s = GetInt(j, "bos_token_id", false, &c.bos_token_id)).ok()) return s;
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) {
    c.eos_token_ids.clear();
    const json list = it->is_array() ? *it : json::array({*it});
    for (const json& e : list) {
      if (!e.is_number_integer()) {
        return absl::InvalidArgumentError(
            absl::StrCat("field \"eos_token_id\" must hold integers, got ", e.dump()));
      }
      c.eos_token_ids.push_back(e.get<int32_t>());
    }
  }
  if (auto it = j.find("torch_dtype"); it != j.end() && it->is_string()) {
    c.torch_dtype = it->get<std::string>();
  }
  if (auto it = j.find("quantization_config"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) {
      return absl::InvalidArgumentError("field \"quantization_config\" must be an object");
    }
    c.quantization_config_json = it->dump();
  }
  if (!(s = ValidateConfig(c)).ok()) return s;
  return c;
}

}  // namespace

absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text, std::string_view source) {
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  absl::StatusOr<ModelConfig> config =
      j.is_discarded()
          ? absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", DescribeJsonError(json_text)))
          : ParseJson(j);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(std::string(source), ": ", config.status().message()));
  }
  return config;
}

absl::StatusOr<ModelConfig> ReadModelConfig(const std::filesystem::path& config_json) {
  absl::StatusOr<std::string> text = ReadWholeFile(config_json);
  if (!text.ok()) return text.status();
  return ParseModelConfig(*text, config_json.string());
}

std::string ModelConfigToJson(const ModelConfig& c) {
  json j = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_size", c.dim},
      {"intermediate_size", c.hidden_dim},
      {"num_hidden_layers", c.n_layers},
      {"num_attention_heads", c.n_heads},
      {"num_key_value_heads", c.n_kv_heads},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_seq_len},
      {"rms_norm_eps", c.norm_eps},
      {"rope_theta", c.rope_theta},
      {"tie_word_embeddings", c.tie_embeddings},
      {"hidden_act", "silu"},
      {"bos_token_id", c.bos_token_id},
      {"torch_dtype", c.torch_dtype},
  };
  if (c.eos_token_ids.size() == 1) {
    j["eos_token_id"] = c.eos_token_ids[0];
  } else {
    j["eos_token_id"] = c.eos_token_ids;
  }
  if (!c.quantization_config_json.empty()) {
    j["quantization_config"] = json::parse(c.quantization_config_json, nullptr, false);
  }
  return j.dump(2) + "\n";
}

absl::Status WriteModelConfig(const ModelConfig& config, const std::filesystem::path& config_json) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  return WriteFileAtomically(config_json, ModelConfigToJson(config));
}

}  // namespace accllm
