// The Worker.Step wire format ↔ the scheduler's StepBatch / StepOutput. The
// server encodes what its scheduler planned; the worker decodes and validates
// every field at its edge (a bad step is INVALID_ARGUMENT naming the field,
// never a crash), runs it, and encodes the sampled tokens back.
#ifndef ACCLLM_COMMON_STEP_CODEC_H_
#define ACCLLM_COMMON_STEP_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"      // absl::StatusOr
#include "accllm/v1/worker.pb.h"       // v1::StepRequest, v1::StepResponse
#include "model/attention_window.h"    // AttentionWindow
#include "scheduler/worker.h"          // StepBatch, StepOutput

namespace accllm {

// What a decoded step must fit: the model's vocabulary and the pool's shape.
struct StepLimits {
  int32_t vocab_size = 0;
  int32_t num_pages = 0;
  int32_t page_size = 0;
};

void EncodeAttention(const AttentionWindow& window, v1::AttentionOptions* out);
// An unset `kind` is `fallback` (the model's default).
AttentionWindow DecodeAttention(const v1::AttentionOptions& in, const AttentionWindow& fallback);

void EncodeStep(const scheduler::StepBatch& batch, const std::string& model, int64_t version,
                v1::StepRequest* out);
absl::StatusOr<scheduler::StepBatch> DecodeStep(const v1::StepRequest& in, const StepLimits& limits);

void EncodeStepOutput(const scheduler::StepOutput& output, v1::StepResponse* out);
// Checks the reply against the batch it answers: one token per sampling chunk,
// in order, for the same sequences.
absl::StatusOr<scheduler::StepOutput> DecodeStepOutput(const v1::StepResponse& in,
                                                       const scheduler::StepBatch& batch,
                                                       int32_t vocab_size);

}  // namespace accllm

#endif  // ACCLLM_COMMON_STEP_CODEC_H_
