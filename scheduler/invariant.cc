#include "scheduler/invariant.h"

#include <cstdio>   // std::fprintf
#include <cstdlib>  // std::abort

namespace accllm::scheduler::internal {

void InvariantFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "accllm scheduler invariant failed at %s:%d: %s\n", file, line, condition);
  std::abort();
}

}  // namespace accllm::scheduler::internal
