// A read-only memory mapping of a whole file; weights are read in place, never copied.
#ifndef ACCLLM_MODEL_MAPPED_FILE_H_
#define ACCLLM_MODEL_MAPPED_FILE_H_

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <utility>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

// Shared so that every view into the mapping can keep it alive; unmapped when the last owner goes.
// The file must not shrink while mapped: reading past its new end raises SIGBUS (as with any mmap).
class MappedFile {
 public:
  // Maps a regular file. An empty file gives an empty bytes() and no mapping.
  // Errors name the path and the system's reason (NotFound, PermissionDenied, ...).
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(const std::filesystem::path& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }
  // Gives the pages read so far back to the kernel (they stop counting as this process's
  // resident memory). The bytes stay readable: a later read faults them in again from the
  // file (or the page cache). For a caller that has copied out what it needs.
  void DropResidentPages() const;

 private:
  MappedFile(std::filesystem::path path, const std::byte* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::filesystem::path path_;
  const std::byte* data_;  // nullptr when size_ == 0
  size_t size_;
};

}  // namespace accllm

#endif  // ACCLLM_MODEL_MAPPED_FILE_H_
