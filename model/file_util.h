// Small file helpers shared by readers and writers of model directories.
#ifndef ACCLLM_MODEL_FILE_UTIL_H_
#define ACCLLM_MODEL_FILE_UTIL_H_

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

// Errors name the path and the OS reason.
absl::StatusOr<std::string> ReadWholeFile(const std::filesystem::path& path);

// Writes to a temporary file beside `path`, then renames: readers never see half a file.
absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace accllm

#endif  // ACCLLM_MODEL_FILE_UTIL_H_
