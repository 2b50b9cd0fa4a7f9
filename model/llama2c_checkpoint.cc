#include "model/llama2c_checkpoint.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"       // absl::StrCat
#include "model/mapped_file.h"          // MappedFile
#include "model/model_dir.h"            // WriteModelFiles
#include "model/safetensors_writer.h"   // SafetensorsWriter
#include "model/tensor.h"               // EncodeFloat32
#include "model/tensor_names.h"         // LinearName, ...

namespace accllm {

namespace {

constexpr int64_t kHeaderInts = 7;
// Bounds that keep every size computation far from overflow; real models are well inside.
constexpr int64_t kMaxDim = 1 << 16;
constexpr int64_t kMaxVocab = 1 << 22;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxSeqLen = 1 << 24;

absl::Status HeaderError(const std::filesystem::path& path, const char* field, int64_t value,
                         const std::string& why) {
  return absl::DataLossError(absl::StrCat(path.string(), ": llama2.c header field ", field, " = ",
                                          value, " ", why));
}

}  // namespace

absl::StatusOr<Llama2cCheckpoint> ReadLlama2cCheckpoint(const std::filesystem::path& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  const std::span<const std::byte> bytes = (*file)->bytes();
  if (bytes.size() < kHeaderInts * 4) {
    return absl::DataLossError(absl::StrCat(path.string(), ": ", bytes.size(),
                                            " bytes is too short for a llama2.c header (28 bytes)"));
  }
  int32_t h[kHeaderInts];
  std::memcpy(h, bytes.data(), sizeof(h));
  const char* names[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size",
                         "seq_len"};
  const int64_t limits[] = {kMaxDim, kMaxDim * 8, kMaxLayers, kMaxDim, kMaxDim, kMaxVocab,
                            kMaxSeqLen};
  for (int i = 0; i < kHeaderInts; ++i) {
    const int64_t v = i == 5 ? std::abs(int64_t{h[i]}) : h[i];
    if (v <= 0 || v > limits[i]) {
      return HeaderError(path, names[i], h[i], absl::StrCat("is outside [1, ", limits[i], "]"));
    }
  }
  ModelConfig c;
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.n_layers = h[2];
  c.n_heads = h[3];
  c.n_kv_heads = h[4];
  c.vocab_size = std::abs(h[5]);
  c.tie_embeddings = h[5] > 0;
  c.max_seq_len = h[6];
  c.norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.bos_token_id = 1;
  c.eos_token_ids = {1};  // llama2.c's run.c stops when BOS comes again
  if (absl::Status s = ValidateConfig(c); !s.ok()) {
    return absl::DataLossError(absl::StrCat(path.string(), ": llama2.c header: ", s.message()));
  }

  const int64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers, vocab = c.vocab_size;
  const int64_t hd = c.head_dim(), kv = c.kv_dim();
  const int64_t sizes[] = {
      vocab * dim,                      // embedding
      layers * dim,                     // rms_att
      layers * dim * dim,               // wq
      layers * kv * dim,                // wk
      layers * kv * dim,                // wv
      layers * dim * dim,               // wo
      layers * dim,                     // rms_ffn
      layers * hidden * dim,            // w1
      layers * dim * hidden,            // w2
      layers * hidden * dim,            // w3
      dim,                              // rms_final
      c.max_seq_len * hd / 2,           // freq_cis_real (legacy, unused)
      c.max_seq_len * hd / 2,           // freq_cis_imag (legacy, unused)
      c.tie_embeddings ? 0 : vocab * dim,  // classifier
  };
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  const int64_t expected_bytes = kHeaderInts * 4 + total * 4;
  if (static_cast<int64_t>(bytes.size()) != expected_bytes) {
    return absl::DataLossError(absl::StrCat(
        path.string(), ": ", bytes.size(), " bytes, but a llama2.c checkpoint with this header (",
        "dim ", dim, ", hidden_dim ", hidden, ", n_layers ", layers, ", vocab_size ", h[5],
        ", seq_len ", c.max_seq_len, ") has ", expected_bytes, " bytes",
        static_cast<int64_t>(bytes.size()) < expected_bytes ? " (truncated?)" : ""));
  }
  // The mapping is page-aligned and the header is 28 bytes, so the floats are 4-aligned.
  const float* p = reinterpret_cast<const float*>(bytes.data() + kHeaderInts * 4);
  Llama2cCheckpoint ck;
  ck.config = c;
  ck.file = *file;
  auto take = [&p](int64_t n) {
    std::span<const float> s(p, static_cast<size_t>(n));
    p += n;
    return s;
  };
  ck.embedding = take(sizes[0]);
  ck.rms_att = take(sizes[1]);
  ck.wq = take(sizes[2]);
  ck.wk = take(sizes[3]);
  ck.wv = take(sizes[4]);
  ck.wo = take(sizes[5]);
  ck.rms_ffn = take(sizes[6]);
  ck.w1 = take(sizes[7]);
  ck.w2 = take(sizes[8]);
  ck.w3 = take(sizes[9]);
  ck.rms_final = take(sizes[10]);
  take(sizes[11] + sizes[12]);
  ck.classifier = c.tie_embeddings ? ck.embedding : take(sizes[13]);
  return ck;
}

void InterleavedToHalfSplitRows(std::span<const float> in, int n_heads, int head_dim, int cols,
                                std::span<float> out) {
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    for (int part = 0; part < 2; ++part) {
      for (int j = 0; j < half; ++j) {
        const size_t dst = (static_cast<size_t>(h) * head_dim + part * half + j) * cols;
        const size_t src = (static_cast<size_t>(h) * head_dim + 2 * j + part) * cols;
        std::memcpy(&out[dst], &in[src], cols * sizeof(float));
      }
    }
  }
}

absl::Status ImportLlama2c(const std::filesystem::path& checkpoint,
                           const std::filesystem::path& out_dir,
                           const Llama2cImportOptions& options) {
  absl::StatusOr<Llama2cCheckpoint> ck = ReadLlama2cCheckpoint(checkpoint);
  if (!ck.ok()) return ck.status();
  ModelConfig config = ck->config;
  config.torch_dtype = options.dtype == DType::kF32    ? "float32"
                       : options.dtype == DType::kF16 ? "float16"
                                                       : "bfloat16";
  const int64_t dim = config.dim, hidden = config.hidden_dim, kv = config.kv_dim();

  // Converted tensors are owned here until the writer has written them.
  std::vector<std::vector<std::byte>> storage;
  SafetensorsWriter writer;
  absl::Status status;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, std::span<const float> v) {
    if (!status.ok()) return;
    storage.push_back(EncodeFloat32(v, options.dtype));
    status = writer.Add(name, options.dtype, std::move(shape), storage.back());
  };
  add(kEmbeddingName, {config.vocab_size, dim}, ck->embedding);
  std::vector<float> permuted;
  for (int l = 0; l < config.n_layers; ++l) {
    add(AttnNormName(l), {dim}, ck->rms_att.subspan(l * dim, dim));
    permuted.resize(dim * dim);
    InterleavedToHalfSplitRows(ck->wq.subspan(l * dim * dim, dim * dim), config.n_heads,
                               config.head_dim(), dim, permuted);
    add(LinearName(l, LayerLinear::kQ), {dim, dim}, permuted);
    permuted.resize(kv * dim);
    InterleavedToHalfSplitRows(ck->wk.subspan(l * kv * dim, kv * dim), config.n_kv_heads,
                               config.head_dim(), dim, permuted);
    add(LinearName(l, LayerLinear::kK), {kv, dim}, permuted);
    add(LinearName(l, LayerLinear::kV), {kv, dim}, ck->wv.subspan(l * kv * dim, kv * dim));
    add(LinearName(l, LayerLinear::kO), {dim, dim}, ck->wo.subspan(l * dim * dim, dim * dim));
    add(FfnNormName(l), {dim}, ck->rms_ffn.subspan(l * dim, dim));
    add(LinearName(l, LayerLinear::kGate), {hidden, dim},
        ck->w1.subspan(l * hidden * dim, hidden * dim));
    add(LinearName(l, LayerLinear::kDown), {dim, hidden},
        ck->w2.subspan(l * dim * hidden, dim * hidden));
    add(LinearName(l, LayerLinear::kUp), {hidden, dim},
        ck->w3.subspan(l * hidden * dim, hidden * dim));
  }
  add(kFinalNormName, {dim}, ck->rms_final);
  if (!config.tie_embeddings) add(kLmHeadName, {config.vocab_size, dim}, ck->classifier);
  if (!status.ok()) return status;
  writer.SetMetadata("format", "pt");
  writer.SetMetadata("source", "llama2.c checkpoint " + checkpoint.filename().string());
  return WriteModelFiles(out_dir, config, writer, options.tokenizer_bin);
}

}  // namespace accllm
