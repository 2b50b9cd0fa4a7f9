#include "model/synth.h"

#include <cmath>

#include "absl/strings/str_cat.h"                 // absl::StrCat
#include "absl/strings/str_join.h"                // absl::StrJoin
#include "model/model_dir.h"                      // WriteModelFiles
#include "model/safetensors_writer.h"             // SafetensorsWriter
#include "model/splitmix.h"                       // SplitMixUniform
#include "model/tensor.h"                         // EncodeFloat32
#include "model/tensor_names.h"                   // ExpectedTensors
#include "model/tokenizer/llama2c_tokenizer.h"    // WriteLlama2cTokenizer
#include "model/tokenizer/synthetic_vocab.h"      // BuildSyntheticVocab

namespace accllm {

namespace {

struct NamedShape {
  const char* name;
  ModelConfig config;
};

ModelConfig MakeConfig(int dim, int hidden, int layers, int heads, int kv_heads, int vocab,
                       int seq_len) {
  ModelConfig c;
  c.dim = dim;
  c.hidden_dim = hidden;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.vocab_size = vocab;
  c.max_seq_len = seq_len;
  c.norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.tie_embeddings = false;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  return c;
}

const std::vector<NamedShape>& Shapes() {
  static const std::vector<NamedShape> shapes = {
      {"tiny", MakeConfig(128, 352, 4, 8, 4, 512, 4096)},
      {"tinyllama-1.1b", MakeConfig(2048, 5632, 22, 32, 4, 32000, 2048)},
      {"llama2-7b", MakeConfig(4096, 11008, 32, 32, 32, 32000, 4096)},
  };
  return shapes;
}


}  // namespace

std::vector<std::string> SynthShapeNames() {
  std::vector<std::string> names;
  for (const NamedShape& s : Shapes()) names.push_back(s.name);
  return names;
}

absl::StatusOr<ModelConfig> SynthShape(std::string_view name) {
  for (const NamedShape& s : Shapes()) {
    if (name == s.name) return s.config;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown shape \"", std::string(name),
                                                 "\"; known: ",
                                                 absl::StrJoin(SynthShapeNames(), ", ")));
}

absl::Status WriteSynthModel(const ModelConfig& config_in, const std::filesystem::path& out_dir,
                             const SynthOptions& options) {
  ModelConfig config = config_in;
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  const DType dtype =
      options.dtype.value_or(config.LinearParameterCount() < (int64_t{1} << 26) ? DType::kF32
                                                                                : DType::kF16);
  if (!(dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "synthetic weights must be F32, F16 or BF16, got ", std::string(DTypeName(dtype))));
  }
  config.torch_dtype = dtype == DType::kF32 ? "float32" : dtype == DType::kF16 ? "float16" : "bfloat16";

  SafetensorsWriter writer;
  uint64_t index = 0;
  for (const ExpectedTensor& t : ExpectedTensors(config)) {
    const bool is_norm = t.shape.size() == 1;
    const uint64_t stream = options.seed * 0x100000001b3ull + (index++) * 0x9e3779b97f4a7c15ull;
    absl::Status s = writer.AddGenerated(
        t.name, dtype, t.shape, [is_norm, stream, dtype](std::span<std::byte> out) {
          const size_t n = out.size() / DTypeSize(dtype);
          std::vector<float> values(n, 1.0f);
          if (!is_norm) {
            // Uniform on [-a, a] with a = 0.02·√3 has standard deviation 0.02.
            constexpr float kA = 0.02f * 1.7320508f;
            uint64_t state = stream;
            for (float& v : values) {
              v = (SplitMixUniform(state) * 2.0f - 1.0f) * kA;  // own stream per tensor
            }
          }
          EncodeFloat32(values, dtype, out);
        });
    if (!s.ok()) return s;
  }
  writer.SetMetadata("format", "pt");
  writer.SetMetadata("source", absl::StrCat("accllm synth, seed ", options.seed));

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", out_dir.string()));
  absl::StatusOr<Vocab> vocab = BuildSyntheticVocab(config.vocab_size);
  if (!vocab.ok()) return vocab.status();
  if (absl::Status s = WriteLlama2cTokenizer(out_dir / kLlama2cTokenizerFileName, vocab->pieces,
                                             vocab->scores);
      !s.ok()) {
    return s;
  }
  return WriteModelFiles(out_dir, config, writer);
}

}  // namespace accllm
