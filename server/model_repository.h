// Where models come from: a directory whose subdirectories are model
// directories (each with a config.json). Names are plain directory names.
#ifndef ACCLLM_SERVER_MODEL_REPOSITORY_H_
#define ACCLLM_SERVER_MODEL_REPOSITORY_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

class ModelRepository {
 public:
  explicit ModelRepository(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  // Names of the subdirectories that hold a config.json, sorted.
  absl::StatusOr<std::vector<std::string>> List() const;
  // The directory of `name`; InvalidArgument for a name that is not a plain
  // directory name (no '/', no '..'), NotFound when it is not in the repository.
  absl::StatusOr<std::filesystem::path> PathOf(std::string_view name) const;

 private:
  std::filesystem::path root_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_MODEL_REPOSITORY_H_
