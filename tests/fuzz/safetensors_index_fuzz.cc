// model.safetensors.index.json beside one small valid shard ("model-00001-of-00001.safetensors"
// holding tensors "a" and "b"): TensorStore::OpenDir checks the index against the shards.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/tensor_store.h"    // TensorStore
#include "tests/fuzz/fuzz_file.h"  // ScratchDir, WriteScratch

namespace {

// A shard with two F32 tensors of one element each, written once per process.
void WriteShardOnce() {
  static const bool written = [] {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    file += header;
    file.append(8, '\0');
    accllm::fuzz::WriteScratch("model-00001-of-00001.safetensors",
                               reinterpret_cast<const uint8_t*>(file.data()), file.size());
    return true;
  }();
  (void)written;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  WriteShardOnce();
  accllm::fuzz::WriteScratch("model.safetensors.index.json", data, size);
  auto store = accllm::TensorStore::OpenDir(accllm::fuzz::ScratchDir());
  if (!store.ok()) return 0;
  for (const std::string& name : (*store)->TensorNames()) {
    if (!(*store)->Get(name).ok()) __builtin_trap();  // a listed tensor must be gettable
  }
  return 0;
}
