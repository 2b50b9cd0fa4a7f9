// The FPGA card's decoder-step kernel: ONE launch runs a whole step — every layer of the
// model for every token of a batch of sequence chunks (prefill chunks and decode tokens) —
// reading packed weights and the KV page pool from HBM banks, storing the step's K/V into the
// pool, and writing the logits of the tokens that ask for them. Its arithmetic is the CPU
// engine's (workers/engine/llama_model.cc's ForwardBatch over QuantizedLinearA8, the int8
// embedding/head and QuantizedSequenceKv) operation for operation:
//   x = embedding row (int8 table);
//   per layer: xb = RMSNorm(x)·attn_norm; ONE A8 quantization of xb per token shared by
//   q, k, v (the CPU's ApplyBatchShared); q, k, v = RCE(xb); RoPE(q) at the token's
//   position; store every token's K/V first (keys RoPE'd except Λ sinks; fp16 below
//   sink_tokens, else Hadamard + KV4/KV8); then each token's Λ/dense attention; A8(attn) →
//   o; x += o; xb = RMSNorm(x)·ffn_norm; one A8 shared by gate and up; SwiGLU; A8 → down;
//   x += down;
//   final: RMSNorm(x)·final_norm of the logits tokens → A8 → int8 head → logits rows.
// The exps (SwiGLU, the KV4 softmax) are quant/portable_exp.h's on both sides, so the logits
// are the CPU's bit for bit on FMA targets (see lambda_attention.h).
//
// Supported subset (the HOST rejects everything else before it loads a model):
//   Llama-family decoder, W2/W3/W4/W8 uniform or pow2 linears, dense or 2:4, A8 activations;
//   no online rotations (quantization_config.rotations), int8 embedding and head, KV4 or
//   KV8 cache (with rotate_keys on or off, any sink_tokens), head_dim even and <=
//   kMaxHeadDim, at most kMaxStepTokens tokens per step and kMaxAttendPositions positions
//   read per query.
// Scratch: C simulation keeps the step's activations in host vectors; on the card they are
// on-chip buffers / an HBM scratch area sized for kMaxStepTokens.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_DECODER_STEP_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_DECODER_STEP_H_

#include <cstdint>

#include "workers/fpga/kernels/decoder_desc.h"   // ModelDesc, LayerDesc
#include "workers/fpga/kernels/device_memory.h"  // DeviceMemory, DeviceRef
#include "workers/fpga/kernels/kernel_status.h"  // KernelStatus
#include "workers/fpga/kernels/step_command.h"   // StepHeader, ...

namespace accllm::fpga {

inline constexpr int32_t kMaxStepTokens = 4096;

// model_desc: ModelDesc + LayerDesc[n_layers] (decoder_desc.h); command: step_command.h;
// logits_out: float32 [n_logits, vocab] (absent when no token wants logits). Returns 0 or a
// KernelStatus; on an error nothing was written.
int32_t DecoderStep(const DeviceMemory& mem, DeviceRef model_desc, DeviceRef command,
                    DeviceRef logits_out);

// The checks DecoderStep makes of the model descriptor (0 or kErrBadModelDesc).
int32_t CheckModelDesc(const DeviceMemory& mem, DeviceRef model_desc);

}  // namespace accllm::fpga

// The kernel top as Vitis sees it: one m_axi port per HBM pseudo-channel (gmem0..gmem31),
// the three refs as s_axilite scalars, the KernelStatus as the return value.
extern "C" int32_t accllm_decoder(
    uint8_t* gmem0, uint8_t* gmem1, uint8_t* gmem2, uint8_t* gmem3, uint8_t* gmem4, uint8_t* gmem5,
    uint8_t* gmem6, uint8_t* gmem7, uint8_t* gmem8, uint8_t* gmem9, uint8_t* gmem10,
    uint8_t* gmem11, uint8_t* gmem12, uint8_t* gmem13, uint8_t* gmem14, uint8_t* gmem15,
    uint8_t* gmem16, uint8_t* gmem17, uint8_t* gmem18, uint8_t* gmem19, uint8_t* gmem20,
    uint8_t* gmem21, uint8_t* gmem22, uint8_t* gmem23, uint8_t* gmem24, uint8_t* gmem25,
    uint8_t* gmem26, uint8_t* gmem27, uint8_t* gmem28, uint8_t* gmem29, uint8_t* gmem30,
    uint8_t* gmem31, uint64_t desc_bank, uint64_t desc_offset, uint64_t desc_bytes, uint64_t cmd_bank,
    uint64_t cmd_offset, uint64_t cmd_bytes, uint64_t logits_bank, uint64_t logits_offset,
    uint64_t logits_bytes);

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_DECODER_STEP_H_
