// An Inference.Generate request (binary protobuf) through the server's edge: BuildRequest with
// a tokenizer (text prompts and stop strings), then the scheduler's own checks, as the server
// runs them. Anything both accept must be a request the scheduler can hold.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tests/fuzz/quiet_protobuf.h"  // QuietProtobuf
#include "accllm/v1/inference.pb.h"             // v1::GenerateRequest
#include "common/model_limits.h"                // LimitsFor
#include "model/config.h"                       // ModelConfig
#include "model/tokenizer/llama2c_tokenizer.h"  // Llama2cTokenizer
#include "model/tokenizer/synthetic_vocab.h"    // BuildSyntheticVocab
#include "scheduler/request.h"                  // ValidateRequestParams
#include "server/request_builder.h"             // BuildRequest

namespace {

struct Model {
  accllm::ModelConfig config;
  accllm::scheduler::ModelLimits limits;
  std::unique_ptr<accllm::Llama2cTokenizer> tokenizer;
};

// A small model: 512 tokens, a dense context of 256 positions.
const Model& TheModel() {
  static const Model* model = [] {
    auto* m = new Model;
    m->config.dim = 64;
    m->config.hidden_dim = 128;
    m->config.n_layers = 1;
    m->config.n_heads = 4;
    m->config.n_kv_heads = 2;
    m->config.vocab_size = 512;
    m->config.max_seq_len = 256;
    m->limits = accllm::LimitsFor(m->config);
    auto vocab = accllm::BuildSyntheticVocab(m->config.vocab_size);
    if (!vocab.ok()) __builtin_trap();
    auto tokenizer = accllm::Llama2cTokenizer::Create(vocab->pieces, vocab->scores);
    if (!tokenizer.ok()) __builtin_trap();
    m->tokenizer = *std::move(tokenizer);
    return m;
  }();
  return *model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  accllm::fuzz::QuietProtobuf();
  accllm::v1::GenerateRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const Model& model = TheModel();
  const auto now = accllm::scheduler::TimePoint{} + std::chrono::hours(24);
  const bool no_tokenizer = size % 7 == 0;  // sometimes a model without a tokenizer
  auto built = accllm::BuildRequest(request, model.config, model.limits,
                                    no_tokenizer ? nullptr : model.tokenizer.get(),
                                    accllm::RequestDefaults{}, now, std::nullopt, /*seed=*/42);
  if (!built.ok()) return 0;
  if (built->params.prompt.empty() || built->params.max_tokens < 1) __builtin_trap();
  (void)accllm::scheduler::ValidateRequestParams(built->params, model.limits);
  return 0;
}
