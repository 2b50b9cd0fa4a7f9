// Reader for the safetensors format: an 8-byte little-endian header length N, N bytes of
// JSON header ({"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}), then the
// data buffer that the tensors' byte ranges tile exactly.
#ifndef ACCLLM_MODEL_SAFETENSORS_H_
#define ACCLLM_MODEL_SAFETENSORS_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/dtype.h"           // DType
#include "model/mapped_file.h"     // MappedFile
#include "model/tensor.h"          // TensorView

namespace accllm {

// Headers above this are refused (as the reference implementation does): a hostile length
// must not make us parse gigabytes of JSON.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{100} << 20;
inline constexpr std::string_view kSafetensorsMetadataKey = "__metadata__";

class SafetensorsFile {
 public:
  // Maps `path` and validates the whole header against the file. Errors name the path and the
  // tensor or field at fault: DataLossError for truncated or inconsistent files,
  // InvalidArgumentError for well-formed files we do not support (unknown dtype, huge header).
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return mapping_->path(); }
  // Sorted by data offset, i.e. in file order.
  const std::vector<std::string>& TensorNames() const { return names_; }
  bool Contains(std::string_view name) const { return entries_.find(name) != entries_.end(); }
  // The view points into the mapping and stays valid while this SafetensorsFile lives.
  absl::StatusOr<TensorView> Get(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Size of the data buffer, which is the sum of all tensors' sizes.
  int64_t data_bytes() const { return static_cast<int64_t>(data_.size()); }
  void DropResidentPages() const { mapping_->DropResidentPages(); }  // see MappedFile

 private:
  struct Entry {
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t begin;  // relative to the data buffer
    uint64_t end;
  };

  explicit SafetensorsFile(std::shared_ptr<const MappedFile> mapping)
      : mapping_(std::move(mapping)) {}

  std::shared_ptr<const MappedFile> mapping_;
  std::span<const std::byte> data_;  // the data buffer inside the mapping
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace accllm

#endif  // ACCLLM_MODEL_SAFETENSORS_H_
