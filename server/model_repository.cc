#include "server/model_repository.h"

#include <algorithm>

#include "absl/status/status.h"    // absl::NotFoundError
#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

absl::StatusOr<std::vector<std::string>> ModelRepository::List() const {
  std::error_code ec;
  std::filesystem::directory_iterator it(root_, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("model repository ", root_.string(), ": ", ec.message()));
  }
  std::vector<std::string> names;
  for (const auto& entry : it) {
    if (entry.is_directory(ec) && std::filesystem::exists(entry.path() / "config.json", ec)) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::filesystem::path> ModelRepository::PathOf(std::string_view name) const {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(name), "\" is not a model name (a directory name in ",
                     root_.string(), ")"));
  }
  const std::filesystem::path path = root_ / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(absl::StrCat("no model \"", std::string(name),
                                            "\" in the repository ", root_.string()));
  }
  return path;
}

}  // namespace accllm
