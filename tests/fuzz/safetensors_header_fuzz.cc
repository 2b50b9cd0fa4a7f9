// A whole safetensors file (8-byte length, JSON header, data): Open validates it, and every
// tensor it accepts must be readable within the data buffer.
#include <cstddef>
#include <cstdint>

#include "model/safetensors.h"  // SafetensorsFile
#include "tests/fuzz/fuzz_file.h"  // WriteScratch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = accllm::fuzz::WriteScratch("model.safetensors", data, size);
  auto file = accllm::SafetensorsFile::Open(path);
  if (!file.ok()) return 0;
  for (const std::string& name : (*file)->TensorNames()) {
    auto view = (*file)->Get(name);
    if (!view.ok()) __builtin_trap();  // a listed tensor must be gettable
    const auto bytes = view->data;
    if (bytes.size() != static_cast<size_t>(view->numel()) * accllm::DTypeSize(view->dtype)) {
      __builtin_trap();  // the view must cover exactly its shape
    }
    // Touch the first and last byte so ASan sees a range outside the mapping.
    if (!bytes.empty()) {
      volatile std::byte sink = bytes.front();
      sink = bytes.back();
      (void)sink;
    }
  }
  return 0;
}
