// The scheduler's Λ page table and page pool, seen by the engine as a
// SequencePager: `accllm eval` runs the model over exactly the pages the
// serving path would give a sequence, and reports the most it held.
#ifndef ACCLLM_CLIENT_EVAL_LAMBDA_PAGER_H_
#define ACCLLM_CLIENT_EVAL_LAMBDA_PAGER_H_

#include <cstdint>

#include "absl/status/status.h"       // absl::Status
#include "client/eval/evaluation.h"   // EvalOptions

namespace accllm {

// Sets options->make_pager, num_pages and chunk for `window` on streams of up
// to `longest` tokens. Evaluation feeds one token per step, as decoding does,
// so max_pages_per_sequence is the decode bound ceil(S/P) + ceil(W/P) + 1.
absl::Status ConfigureLambdaPaging(const AttentionWindow& window, int64_t longest,
                                   EvalOptions* options);

}  // namespace accllm

#endif  // ACCLLM_CLIENT_EVAL_LAMBDA_PAGER_H_
