// A llama2.c checkpoint (7 × int32 header, then float32 weights): the reader must refuse
// any header whose sizes do not match the file, and every span it returns lies in the file.
#include <cstddef>
#include <cstdint>

#include "model/llama2c_checkpoint.h"  // ReadLlama2cCheckpoint
#include "model/mapped_file.h"         // MappedFile
#include "tests/fuzz/fuzz_file.h"      // WriteScratch

namespace {

void Touch(std::span<const float> s) {
  if (s.empty()) return;
  volatile float sink = s.front();
  sink = s.back();
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = accllm::fuzz::WriteScratch("model.bin", data, size);
  auto ckpt = accllm::ReadLlama2cCheckpoint(path);
  if (!ckpt.ok()) return 0;
  for (auto s : {ckpt->embedding, ckpt->rms_att, ckpt->wq, ckpt->wk, ckpt->wv, ckpt->wo,
                 ckpt->rms_ffn, ckpt->w1, ckpt->w2, ckpt->w3, ckpt->rms_final, ckpt->classifier}) {
    Touch(s);
  }
  return 0;
}
