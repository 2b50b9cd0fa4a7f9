// Writes one safetensors file, streaming tensor by tensor so models larger than memory can be
// produced (see SafetensorsFile for the format).
#ifndef ACCLLM_MODEL_SAFETENSORS_WRITER_H_
#define ACCLLM_MODEL_SAFETENSORS_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"  // absl::Status
#include "model/dtype.h"         // DType

namespace accllm {

class SafetensorsWriter {
 public:
  using FillFn = std::function<void(std::span<std::byte>)>;

  // The bytes are referenced, not copied: keep them alive until Write returns.
  // Rejects empty, duplicate, non-UTF-8 and reserved ("__metadata__") names, negative dimensions,
  // and data whose size is not numel × DTypeSize(dtype). Errors name the tensor.
  absl::Status Add(std::string name, DType dtype, std::vector<int64_t> shape,
                   std::span<const std::byte> data);
  // For models larger than memory: `fill` is called during Write with a zeroed buffer of exactly
  // the tensor's size, and may be called again if the writer is written twice or split.
  absl::Status AddGenerated(std::string name, DType dtype, std::vector<int64_t> shape, FillFn fill);
  // Free-form "__metadata__" (e.g. {"format": "pt"}); a repeated key replaces the old value.
  void SetMetadata(std::string key, std::string value);

  int64_t data_bytes() const { return data_bytes_; }  // sum of all tensors' sizes
  size_t size() const { return entries_.size(); }     // number of tensors
  std::vector<std::string> TensorNames() const;       // insertion order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Consecutive runs of tensors of at most `max_shard_bytes` each (a larger tensor gets a shard
  // of its own; a tensor is never split). Each shard carries this writer's metadata.
  std::vector<SafetensorsWriter> SplitIntoShards(int64_t max_shard_bytes) const;

  // One file, tensors in insertion order; written to a temp file in the same directory, synced,
  // then renamed over `path`, so readers see the old file or the new one, never a partial one.
  absl::Status Write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    int64_t nbytes;
    std::span<const std::byte> data;  // used when fill is empty
    FillFn fill;
  };

  absl::Status AddEntry(Entry entry);

  std::vector<Entry> entries_;
  std::unordered_set<std::string> names_;
  std::map<std::string, std::string> metadata_;
  int64_t data_bytes_ = 0;
};

}  // namespace accllm

#endif  // ACCLLM_MODEL_SAFETENSORS_WRITER_H_
