#include "model/file_util.h"

#include <fcntl.h>   // open, O_WRONLY, O_CREAT, O_EXCL
#include <unistd.h>  // write, fsync, close, unlink, getpid

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>  // std::rename
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

absl::StatusOr<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path.string(), ": ",
                                            std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path.string()));
  return ss.str();
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

absl::Status AtomicFile::Create(const std::filesystem::path& target) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::filesystem::path candidate = target;
    candidate.replace_filename(
        absl::StrCat(".", target.filename().string(), ".tmp-", ::getpid(), "-", counter++));
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      fd_ = fd;
      path_ = std::move(candidate);
      return absl::OkStatus();
    }
    if (errno != EEXIST && errno != EINTR) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", candidate.string()));
    }
  }
  return absl::AlreadyExistsError(absl::StrCat("cannot create a temp file beside ", target.string()));
}

absl::Status AtomicFile::Append(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), std::min<size_t>(bytes.size(), size_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path_.string()));
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status AtomicFile::Commit(const std::filesystem::path& target) {
  if (::fsync(fd_) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot sync ", path_.string()));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot close ", path_.string()));
  }
  if (std::rename(path_.c_str(), target.c_str()) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot rename ", path_.string(), " to ", target.string()));
  }
  path_.clear();
  // Make the rename itself durable; a failure here leaves a correct file, so it is not fatal.
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile out;
  if (absl::Status s = out.Create(path); !s.ok()) return s;
  if (absl::Status s = out.Append(std::as_bytes(std::span(bytes))); !s.ok()) return s;
  return out.Commit(path);
}

}  // namespace accllm
