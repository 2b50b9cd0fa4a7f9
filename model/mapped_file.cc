#include "model/mapped_file.h"

#include <fcntl.h>     // open, O_RDONLY, O_CLOEXEC
#include <sys/mman.h>  // madvise, mmap, munmap
#include <sys/stat.h>  // fstat, S_ISREG
#include <unistd.h>    // close

#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"    // absl::ErrnoToStatus
#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

namespace {
// Closes the descriptor on every return path; the mapping outlives it.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};
}  // namespace

absl::StatusOr<std::shared_ptr<const MappedFile>> MappedFile::Open(
    const std::filesystem::path& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path.string()));
  FdCloser closer(fd);

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path.string()));
  }
  // mmap of a directory or a pipe fails with an obscure ENODEV; say what is wrong instead.
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot map ", path.string(), ": not a regular file"));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > SIZE_MAX) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map ", path.string(), ": ", size, " bytes exceed the address space"));
  }
  // mmap rejects length 0, and an empty file has nothing to map.
  if (size == 0) {
    return std::shared_ptr<const MappedFile>(new MappedFile(path, nullptr, 0));
  }
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot mmap ", path.string()));
  }
  return std::shared_ptr<const MappedFile>(
      new MappedFile(path, static_cast<const std::byte*>(addr), static_cast<size_t>(size)));
}

void MappedFile::DropResidentPages() const {
  // The pages are clean (PROT_READ, never written), so MADV_DONTNEED only unmaps them; the
  // contents come back from the file. Failure is harmless (the pages stay resident).
  if (data_ != nullptr) (void)::madvise(const_cast<std::byte*>(data_), size_, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace accllm
