// The Worker.Step codec on both sides of the wire. Input: a 2-byte little-endian length n, a
// StepRequest in n bytes (what a worker decodes: DecodeStep), then a StepResponse (what the
// server decodes against the batch it sent: DecodeStepOutput).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/quiet_protobuf.h"  // QuietProtobuf
#include "accllm/v1/worker.pb.h"  // v1::StepRequest, v1::StepResponse
#include "common/step_codec.h"    // DecodeStep, EncodeStep, DecodeStepOutput

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  accllm::fuzz::QuietProtobuf();
  if (size < 2) return 0;
  const size_t n = std::min<size_t>(size - 2, data[0] | (size_t{data[1]} << 8));
  const uint8_t* request_bytes = data + 2;
  const uint8_t* response_bytes = request_bytes + n;
  const size_t response_size = size - 2 - n;

  accllm::v1::StepRequest request;
  if (!request.ParseFromArray(request_bytes, static_cast<int>(n))) return 0;
  const accllm::StepLimits limits{.vocab_size = 512, .num_pages = 64, .page_size = 16};
  auto batch = accllm::DecodeStep(request, limits);
  if (!batch.ok()) return 0;

  // A step the worker accepted re-encodes to one it accepts again (the server's path). An
  // empty batch is not: EncodeStep takes page_tokens from the first chunk, and the scheduler
  // never sends an empty step.
  if (!batch->empty()) {
    accllm::v1::StepRequest again;
    accllm::EncodeStep(*batch, request.model(), request.version(), &again);
    if (!accllm::DecodeStep(again, limits).ok()) __builtin_trap();
  }

  accllm::v1::StepResponse response;
  if (!response.ParseFromArray(response_bytes, static_cast<int>(response_size))) return 0;
  auto output = accllm::DecodeStepOutput(response, *batch, limits.vocab_size);
  if (!output.ok()) return 0;
  for (const auto& sampled : output->tokens) {
    if (sampled.token < 0 || sampled.token >= limits.vocab_size) __builtin_trap();
  }
  return 0;
}
