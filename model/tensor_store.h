// Every tensor of a model directory, whether stored as one model.safetensors or as shards listed
// in model.safetensors.index.json (the layouts Hugging Face writes).
#ifndef ACCLLM_MODEL_TENSOR_STORE_H_
#define ACCLLM_MODEL_TENSOR_STORE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"        // absl::Status
#include "absl/status/statusor.h"      // absl::StatusOr
#include "model/safetensors.h"         // SafetensorsFile
#include "model/safetensors_writer.h"  // SafetensorsWriter
#include "model/tensor.h"              // TensorView

namespace accllm {

inline constexpr std::string_view kSafetensorsFileName = "model.safetensors";
inline constexpr std::string_view kSafetensorsIndexFileName = "model.safetensors.index.json";

class TensorStore {
 public:
  // dir/model.safetensors, or the shards listed in dir/model.safetensors.index.json
  // ({"metadata": {...}, "weight_map": {"tensor name": "shard file name"}}). If both exist, the
  // index wins. Neither: NotFound naming the dir. Every shard is opened and validated, and every
  // tensor the index lists must be in the shard it names; tensors a shard holds beyond those the
  // index lists are not visible (as in Hugging Face's loader).
  static absl::StatusOr<std::unique_ptr<TensorStore>> OpenDir(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  std::vector<std::string> TensorNames() const;  // sorted
  bool Contains(std::string_view name) const { return where_.find(name) != where_.end(); }
  // The view stays valid while this TensorStore lives.
  absl::StatusOr<TensorView> Get(std::string_view name) const;
  int64_t total_bytes() const { return total_bytes_; }  // sum of all tensors' sizes
  // Every shard's MappedFile::DropResidentPages: views stay valid (reads fault pages back in).
  void DropResidentPages() const {
    for (const auto& file : files_) file->DropResidentPages();
  }

 private:
  explicit TensorStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*, std::less<>> where_;  // tensor → its file
  int64_t total_bytes_ = 0;
};

// Writes the tensors of `writer` into dir (created if missing): model.safetensors when they fit
// in one shard of max_shard_bytes, else model-00001-of-0000N.safetensors... plus
// model.safetensors.index.json (a tensor never splits; the index's metadata has "total_size").
// Afterwards removes the model.safetensors, index, and model-*-of-*.safetensors files of an
// earlier write that the new files would contradict; other files are left alone.
absl::Status WriteTensorsToDir(const SafetensorsWriter& writer, const std::filesystem::path& dir,
                               int64_t max_shard_bytes = int64_t{4} << 30);

}  // namespace accllm

#endif  // ACCLLM_MODEL_TENSOR_STORE_H_
