// What a model allows requests to ask for, from its config: the vocabulary, the dense context
// (the trained context) and the default Λ window. The server validates requests with it; the
// in-process runners (accllm run) build their scheduler from it.
#ifndef ACCLLM_COMMON_MODEL_LIMITS_H_
#define ACCLLM_COMMON_MODEL_LIMITS_H_

#include "model/config.h"              // ModelConfig
#include "scheduler/request_types.h"   // ModelLimits

namespace accllm {

scheduler::ModelLimits LimitsFor(const ModelConfig& config);

}  // namespace accllm

#endif  // ACCLLM_COMMON_MODEL_LIMITS_H_
