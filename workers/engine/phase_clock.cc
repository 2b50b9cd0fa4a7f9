#include "workers/engine/phase_clock.h"

namespace accllm {

std::string_view EnginePhaseName(EnginePhase phase) {
  switch (phase) {
    case EnginePhase::kEmbed:
      return "embed";
    case EnginePhase::kNorm:
      return "norm";
    case EnginePhase::kQkv:
      return "qkv";
    case EnginePhase::kRope:
      return "rope";
    case EnginePhase::kKvStore:
      return "kv_store";
    case EnginePhase::kAttention:
      return "attention";
    case EnginePhase::kOutProj:
      return "out_proj";
    case EnginePhase::kResidual:
      return "residual";
    case EnginePhase::kGateUp:
      return "gate_up";
    case EnginePhase::kSwiGlu:
      return "swiglu";
    case EnginePhase::kDown:
      return "down";
    case EnginePhase::kHead:
      return "head";
    case EnginePhase::kCount:
      break;
  }
  return "unknown";
}

}  // namespace accllm
