// Small file helpers shared by readers and writers of model directories.
#ifndef ACCLLM_MODEL_FILE_UTIL_H_
#define ACCLLM_MODEL_FILE_UTIL_H_

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

// Errors name the path and the OS reason.
absl::StatusOr<std::string> ReadWholeFile(const std::filesystem::path& path);

// A file written under a unique temporary name beside its target, then synced
// and renamed over it: readers see the old file or the whole new one, never a
// part. The temporary file is removed on every failure path (and if never committed).
class AtomicFile {
 public:
  AtomicFile() = default;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Creates a fresh file next to `target` (same filesystem, so rename is atomic).
  absl::Status Create(const std::filesystem::path& target);
  absl::Status Append(std::span<const std::byte> bytes);
  // Syncs, closes and renames over `target`.
  absl::Status Commit(const std::filesystem::path& target);

 private:
  int fd_ = -1;
  std::filesystem::path path_;  // empty once renamed
};

// One-shot AtomicFile.
absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace accllm

#endif  // ACCLLM_MODEL_FILE_UTIL_H_
